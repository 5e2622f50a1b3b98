import { getAddress, isAddress } from "ethers";
import { AppError } from "../shared/errors";
import type { BeneficialOwnerRecord, LinkEdge, Store } from "../store";

/** A linked-account group: the connected set of accounts sharing a KYC identity hash or a beneficial owner. */
export interface AccountGroup {
  /** Its lowest member's address: stable while the membership is. */
  id: string;
  members: readonly string[];
}

/** What links the members: each shared key (`id:<identity hash>`, `owner:<owner>`) with the accounts carrying it. */
export interface GroupView extends AccountGroup {
  links: { key: string; accounts: string[] }[];
}

export function normalAccount(account: string): string {
  if (!isAddress(account))
    throw new AppError("VALIDATION_FAILED", "account must be an address", { details: { account } });
  return getAddress(account).toLowerCase();
}

/**
 * The groups as pre-trade risk and the matcher read them, per account on every order: one recursive read of the
 * store per account at most every `ttlMs`, cleared whenever this process changes a link (a declared owner). A
 * KYC approval (a new identity hash) or another instance's change is seen within ttlMs.
 */
export class GroupDirectory {
  private readonly cache = new Map<string, { group: AccountGroup | undefined; at: number }>();
  /** Bumped by every link change: a read that started before it is not cached. */
  private generation = 0;

  constructor(
    private readonly store: Pick<Store, "groups">,
    private readonly ttlMs = 2_000,
    private readonly now: () => number = Date.now,
  ) {}

  async groupOf(account: string): Promise<AccountGroup | undefined> {
    const key = account.toLowerCase();
    const t = this.now();
    const hit = this.cache.get(key);
    if (hit !== undefined && t - hit.at < this.ttlMs) return hit.group;
    const generation = this.generation;
    const members = await this.store.groups.connected(key);
    const group = members.length > 1 ? { id: members[0], members } : undefined;
    if (generation === this.generation) for (const m of members) this.cache.set(m, { group, at: t });
    return group;
  }

  invalidate(): void {
    this.generation++;
    this.cache.clear();
  }
}

const directories = new WeakMap<object, GroupDirectory>();

/** The one directory of a store in this process: the order books read it, the owner route clears it. */
export function groupDirectory(store: Pick<Store, "groups">, ttlMs?: number): GroupDirectory {
  let d = directories.get(store);
  if (d === undefined) directories.set(store, (d = new GroupDirectory(store, ttlMs)));
  return d;
}

/** Every group of two or more accounts, from the whole graph (union-find over its edges). */
export function groupsOf(edges: readonly LinkEdge[]): GroupView[] {
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let r = x;
    while (parent.get(r) !== r) r = parent.get(r)!;
    parent.set(x, r);
    return r;
  };
  const firstWithKey = new Map<string, string>();
  for (const { account, key } of edges) {
    if (!parent.has(account)) parent.set(account, account);
    const other = firstWithKey.get(key);
    if (other === undefined) firstWithKey.set(key, account);
    else {
      const [a, b] = [find(account), find(other)];
      if (a !== b) parent.set(a < b ? b : a, a < b ? a : b);
    }
  }
  const members = new Map<string, string[]>();
  for (const a of parent.keys()) members.set(find(a), [...(members.get(find(a)) ?? []), a]);
  const out: GroupView[] = [];
  for (const list of members.values()) {
    if (list.length < 2) continue;
    list.sort();
    const inGroup = new Set(list);
    const byKey = new Map<string, string[]>();
    for (const e of edges) if (inGroup.has(e.account)) byKey.set(e.key, [...(byKey.get(e.key) ?? []), e.account]);
    const links = [...byKey]
      .filter(([, accounts]) => accounts.length > 1)
      .map(([key, accounts]) => ({ key, accounts: [...new Set(accounts)].sort() }));
    out.push({ id: list[0], members: list, links });
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : 1));
}

export interface OwnerChange {
  account: string;
  owner: string;
  note: string;
  /** The version read (0: no owner declared yet); omitted: whatever is current. */
  expectedVersion?: number;
  actor: string;
}

/**
 * Declares an account's beneficial owner (compare-and-swap on its version: 409 with the current record when it
 * changed meanwhile), then clears the group cache so the next order of any member sees the new group.
 */
export async function setBeneficialOwner(
  store: Store,
  c: OwnerChange,
  now = Date.now(),
): Promise<BeneficialOwnerRecord> {
  const account = normalAccount(c.account);
  const owner = c.owner.trim();
  const written = await store.transaction(async (tx) => {
    const current = await tx.groups.owner(account);
    const expected = c.expectedVersion ?? current?.version ?? 0;
    const next = { account, owner, note: c.note, setBy: c.actor, setAt: now, version: expected + 1 };
    if (!(await tx.groups.putOwner(next, expected)))
      throw new AppError("CONFLICT", "the account's beneficial owner changed meanwhile: read it again", {
        details: { current: (await tx.groups.owner(account)) ?? null },
      });
    return next;
  });
  groupDirectory(store).invalidate();
  return written;
}
