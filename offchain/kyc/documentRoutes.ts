import { z } from "zod";
import { defineRoute } from "../api";
import { ACKNOWLEDGEMENT_TYPES } from "./acknowledgement";
import { CLIENT_DOCUMENTS } from "./documents";
import type { KycDeps } from "./ports";
import { publicQuiz } from "./suitability";

/** The suitability quiz and the client documents with the EIP-712 structure that acknowledges them (public). */
export function documentRoutes(deps: KycDeps) {
  return [
    defineRoute({
      method: "get",
      path: "/v1/kyc/suitability",
      summary: "The suitability quiz: questions and options in zh-CN and en (never the answers)",
      description:
        "Tier n is offered only when every question of tier n and below is answered right; the tier approved is " +
        "min(risk questionnaire tier, quiz tier).",
      tags: ["kyc"],
      roles: "public",
      write: false,
      response: z.object({
        quizVersion: z.number(),
        questions: z.array(
          z.object({
            id: z.string(),
            tier: z.number(),
            prompt: z.record(z.string()),
            options: z.array(z.object({ id: z.string(), text: z.record(z.string()) })),
          }),
        ),
      }),
      handler: async () => publicQuiz(),
    }),
    defineRoute({
      method: "get",
      path: "/v1/kyc/documents",
      summary: "The risk disclosure and the financing agreement summary (zh-CN governs, en translation)",
      description:
        "contentHash is keccak256 of the exact UTF-8 bytes of each language's text; a client acknowledges a document " +
        "by signing the EIP-712 message `DocumentAcknowledgement` (types and domain given here).",
      tags: ["kyc"],
      roles: "public",
      write: false,
      response: z.object({
        documents: z.array(
          z.object({
            id: z.string(),
            version: z.number(),
            governingLanguage: z.string(),
            hashAlgorithm: z.literal("keccak256-utf8"),
            title: z.record(z.string()),
            text: z.record(z.string()),
            contentHash: z.record(z.string()),
          }),
        ),
        eip712: z
          .object({
            domain: z.object({
              name: z.string(),
              version: z.string(),
              chainId: z.number(),
              verifyingContract: z.string(),
            }),
            primaryType: z.literal("DocumentAcknowledgement"),
            types: z.record(z.array(z.object({ name: z.string(), type: z.string() }))),
          })
          .nullable(),
      }),
      handler: async () => ({
        documents: Object.values(CLIENT_DOCUMENTS).map((d) => ({ ...d, hashAlgorithm: "keccak256-utf8" as const })),
        eip712: deps.ackDomain
          ? {
              domain: {
                name: String(deps.ackDomain.name),
                version: String(deps.ackDomain.version),
                chainId: Number(deps.ackDomain.chainId),
                verifyingContract: String(deps.ackDomain.verifyingContract),
              },
              primaryType: "DocumentAcknowledgement" as const,
              types: ACKNOWLEDGEMENT_TYPES,
            }
          : null,
      }),
    }),
  ];
}
