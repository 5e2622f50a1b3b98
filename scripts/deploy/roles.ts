/** Mirrors contracts/shared/Roles.sol; the AccessManager's role ids. */
export const ROLE = {
  ADMIN: 0n,
  KYC_OFFICER: 1n,
  CUSTODIAN: 2n,
  RISK_OFFICER: 3n,
  OPERATOR: 4n,
  RESERVE_PUBLISHER: 5n,
  ORACLE_REPORTER: 6n,
  LEGAL_OFFICER: 7n,
  GUARDIAN: 8n,
  LIQUIDATOR: 10n,
  BORROWER: 11n,
  SETTLER: 12n,
  INSURANCE_CLAIMANT: 13n,
  AGREEMENT_SETTLER: 14n,
} as const;

export const ROLE_LABELS: Record<string, string> = {
  "1": "KYC_OFFICER",
  "2": "CUSTODIAN",
  "3": "RISK_OFFICER",
  "4": "OPERATOR",
  "5": "RESERVE_PUBLISHER",
  "6": "ORACLE_REPORTER",
  "7": "LEGAL_OFFICER",
  "8": "GUARDIAN",
  "10": "LIQUIDATOR",
  "11": "BORROWER",
  "12": "SETTLER",
  "13": "INSURANCE_CLAIMANT",
  "14": "AGREEMENT_SETTLER",
};
