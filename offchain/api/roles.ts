/** Who may call what. Each route lists the roles it allows; nothing is allowed by default. */
export const ROLES = ["client", "capital_provider", "auditor", "operator", "risk_officer", "kyc_officer"] as const;
export type Role = (typeof ROLES)[number];

/** Staff roles whose keys may require a TOTP second factor. */
export const STAFF_ROLES: readonly Role[] = ["operator", "risk_officer", "kyc_officer"];

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}
