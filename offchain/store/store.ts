import type { SqlEngine, SqlExecutor } from "./engine";
import { migrate, type Migration } from "./migrations";
import { openPostgres } from "./postgres";
import { ApiKeyRepository, AuditRepository, IdempotencyRepository, LockRepository, NonceRepository } from "./repos/api";
import { ChainRepository, ProjectionRepository } from "./repos/chain";
import { InstanceRepository } from "./repos/instances";
import { KycRepository } from "./repos/kyc";
import { OrderbookRepository } from "./repos/orderbook";
import { ReservesRepository } from "./repos/reserves";
import { LegalRepository } from "./repos/legal";
import { SettlementRepository } from "./repos/settlement";
import { KeeperRepository } from "./repos/keeper";
import { SurveillanceRepository } from "./repos/surveillance";
import { OpsRepository } from "./repos/ops";
import { GroupsRepository } from "./repos/groups";
import { AlertsRepository } from "./repos/alerts";
import { AgreementEndRepository } from "./repos/agreementEnd";
import { WalletSessionRepository } from "./repos/sessions";
import { ALL_MIGRATIONS } from "./schema";
import { openSqlite } from "./sqlite";

/**
 * Every repository of the service, bound to one executor (the pool, or one transaction). A new capability adds
 * its repository class under repos/ and a field here; the rest of the service never sees SQL.
 */
export interface Repositories {
  chain: ChainRepository;
  projections: ProjectionRepository;
  apiKeys: ApiKeyRepository;
  nonces: NonceRepository;
  sessions: WalletSessionRepository;
  idempotency: IdempotencyRepository;
  audit: AuditRepository;
  locks: LockRepository;
  instances: InstanceRepository;
  kyc: KycRepository;
  reserves: ReservesRepository;
  settlement: SettlementRepository;
  legal: LegalRepository;
  keeper: KeeperRepository;
  orderbook: OrderbookRepository;
  surveillance: SurveillanceRepository;
  ops: OpsRepository;
  groups: GroupsRepository;
  alerts: AlertsRepository;
  agreementEnds: AgreementEndRepository;
}

export interface Store extends Repositories {
  readonly engine: "sqlite" | "postgres";
  /** Runs `fn` with repositories bound to one transaction; nested calls join the outer transaction. */
  transaction<T>(fn: (tx: Repositories) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export type StoreOptions =
  | { engine: "sqlite"; path: string; migrations?: Migration[] }
  | { engine: "postgres"; url: string; poolSize?: number; migrations?: Migration[] };

function repositories(db: SqlExecutor): Repositories {
  return {
    chain: new ChainRepository(db),
    projections: new ProjectionRepository(db),
    apiKeys: new ApiKeyRepository(db),
    nonces: new NonceRepository(db),
    sessions: new WalletSessionRepository(db),
    idempotency: new IdempotencyRepository(db),
    audit: new AuditRepository(db),
    locks: new LockRepository(db),
    instances: new InstanceRepository(db),
    kyc: new KycRepository(db),
    reserves: new ReservesRepository(db),
    settlement: new SettlementRepository(db),
    legal: new LegalRepository(db),
    keeper: new KeeperRepository(db),
    orderbook: new OrderbookRepository(db),
    surveillance: new SurveillanceRepository(db),
    ops: new OpsRepository(db),
    groups: new GroupsRepository(db),
    alerts: new AlertsRepository(db),
    agreementEnds: new AgreementEndRepository(db),
  };
}

/** Opens the engine and applies every pending migration (ALL_MIGRATIONS unless a list is given). */
export async function openStore(opts: StoreOptions): Promise<Store> {
  const engine: SqlEngine = opts.engine === "sqlite" ? openSqlite(opts.path) : openPostgres(opts.url, opts.poolSize);
  try {
    await migrate(engine, opts.migrations ?? ALL_MIGRATIONS);
  } catch (err) {
    await engine.close();
    throw err;
  }
  return wrap(engine);
}

function wrap(engine: SqlEngine): Store {
  const base = repositories(engine);
  return {
    ...base,
    engine: engine.kind,
    transaction: <T>(fn: (tx: Repositories) => Promise<T>) => engine.transaction((tx) => fn(txRepositories(tx))),
    close: () => engine.close(),
  };
}

function txRepositories(
  tx: SqlExecutor,
): Repositories & { transaction<T>(fn: (r: Repositories) => Promise<T>): Promise<T> } {
  const repos = repositories(tx);
  return { ...repos, transaction: (fn) => fn(repos) };
}
