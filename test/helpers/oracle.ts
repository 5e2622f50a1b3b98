// Moved to fixtures/oracle.ts (shared with the benchmarks); kept here for the tests.
export * from "../../fixtures/oracle";
