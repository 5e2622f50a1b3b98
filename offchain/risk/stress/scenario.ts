/** A stress scenario: for each day, the return of each asset (WAD; an asset not listed does not move). */
export interface Scenario {
  readonly id: string;
  readonly name: string;
  /** Where the path comes from (a shipped historical file, or the Monte Carlo seed and path number). */
  readonly source: string;
  /** Label per day (an ISO date for historical paths, "day 1"… for simulated ones). */
  readonly days: readonly string[];
  readonly returns: readonly ReadonlyMap<string, bigint>[];
}
