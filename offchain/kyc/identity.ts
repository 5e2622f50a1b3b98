import { keccak256, toUtf8Bytes } from "ethers";
import { z } from "zod";
import { canonicalJson, hmacSha256Hex, open, seal } from "../shared/crypto";

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

/** What makes a person one person: the identity document and the date of birth (not a name or an address). */
function personOf(identity: Identity): Record<string, string> {
  return {
    nationality: identity.nationality,
    documentType: identity.documentType,
    documentNumber: identity.documentNumber.toUpperCase().replace(/\s+/g, ""),
    dateOfBirth: identity.dateOfBirth,
  };
}

/**
 * keccak256 of the canonical JSON of { person, salt }, where person is the identity document and date of birth:
 * it commits to who the holder is (an auditor shown the document data and the salt can recompute it) without
 * revealing anything on-chain. One person has one hash on all of its addresses, so the chain can tell a
 * person's second address (KycRegistry.identityTag: the margin engine refuses a liquidator of the owner's
 * identity) and the service can group linked accounts.
 */
export function identityHash(identity: Identity, salt: string): string {
  return keccak256(toUtf8Bytes(canonicalJson({ person: personOf(identity), salt })));
}

/**
 * The salt of a person's identity hash: an HMAC of the person under the data key, so that it is the same on every
 * application of the person and cannot be guessed (and the hash not brute-forced from document numbers) without
 * the key.
 */
export function identitySalt(key: Buffer, identity: Identity): string {
  return "0x" + hmacSha256Hex(key, `identity-salt:${canonicalJson(personOf(identity))}`);
}

export function sealIdentity(key: Buffer, applicantId: string, identity: Identity): { sealed: string; hash: string } {
  const salt = identitySalt(key, identity);
  return {
    sealed: seal(key, canonicalJson({ identity, salt }), `kyc:${applicantId}`),
    hash: identityHash(identity, salt),
  };
}

export function openIdentity(key: Buffer, applicantId: string, sealed: string): SealedIdentity {
  return JSON.parse(open(key, sealed, `kyc:${applicantId}`)) as SealedIdentity;
}
