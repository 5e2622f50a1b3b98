import type { Migration } from "../migrations";
import { API_MIGRATIONS } from "./api";
import { CHAIN_MIGRATIONS } from "./chain";
import { KYC_MIGRATIONS } from "./kyc";
import { ORDERBOOK_MIGRATIONS } from "./orderbook";
import { RESERVES_MIGRATIONS } from "./reserves";
import { SETTLEMENT_MIGRATIONS } from "./settlement";
import { KEEPER_MIGRATIONS } from "./keeper";
import { INSTANCE_MIGRATIONS } from "./instances";
import { SURVEILLANCE_MIGRATIONS } from "./surveillance";
import { OPS_MIGRATIONS } from "./ops";
import { ALERTS_MIGRATIONS } from "./alerts";
import { AGREEMENT_END_MIGRATIONS } from "./agreementEnd";

/**
 * Every capability's migration list, in the order capabilities are applied. A new capability (order book,
 * settlement, reserves…) adds schema/<capability>.ts and appends its list here; versions are per capability.
 */
export const ALL_MIGRATIONS: Migration[] = [
  ...API_MIGRATIONS,
  ...CHAIN_MIGRATIONS,
  ...KYC_MIGRATIONS,
  ...RESERVES_MIGRATIONS,
  ...SETTLEMENT_MIGRATIONS,
  ...KEEPER_MIGRATIONS,
  ...ORDERBOOK_MIGRATIONS,
  ...INSTANCE_MIGRATIONS,
  ...SURVEILLANCE_MIGRATIONS,
  ...OPS_MIGRATIONS,
  ...ALERTS_MIGRATIONS,
  ...AGREEMENT_END_MIGRATIONS,
];
