import { keccak256, toUtf8Bytes } from "ethers";
import { z } from "zod";
import { canonicalJson, open, randomHex, seal } from "../shared/crypto";

/** Personal data of an applicant. Stored only sealed (AES-256-GCM); never logged; never on-chain. */
export const IdentitySchema = z
  .object({
    fullName: z.string().trim().min(2).max(200),
    dateOfBirth: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "must be YYYY-MM-DD"),
    nationality: z.string().regex(/^[A-Z]{2}$/, "must be an ISO 3166-1 alpha-2 code"),
    documentType: z.enum(["passport", "national_id", "residence_permit"]),
    documentNumber: z.string().trim().min(3).max(40),
    homeAddress: z.string().trim().min(5).max(400),
    email: z.string().email().max(200).optional(),
  })
  .strict();
export type Identity = z.infer<typeof IdentitySchema>;

interface SealedIdentity {
  identity: Identity;
  salt: string;
}

/**
 * keccak256 of the canonical JSON of { identity, salt } with a 32-byte random salt: it commits to the record
 * (an auditor shown the record and salt can recompute it) without revealing anything on-chain.
 */
export function identityHash(identity: Identity, salt: string): string {
  return keccak256(toUtf8Bytes(canonicalJson({ identity, salt })));
}

export function sealIdentity(key: Buffer, applicantId: string, identity: Identity): { sealed: string; hash: string } {
  const salt = "0x" + randomHex(32);
  return {
    sealed: seal(key, canonicalJson({ identity, salt }), `kyc:${applicantId}`),
    hash: identityHash(identity, salt),
  };
}

export function openIdentity(key: Buffer, applicantId: string, sealed: string): SealedIdentity {
  return JSON.parse(open(key, sealed, `kyc:${applicantId}`)) as SealedIdentity;
}
