import { LegalError } from "./errors";

/**
 * Natural days are calendar dates "YYYY-MM-DD". Interest and daily fees accrue once per natural day the balance
 * is outstanding (the day the financing starts counts, the day it is repaid does not: ACT/365 "one end").
 * Dates are calendar dates in the platform's business time zone; converting timestamps to dates is the caller's
 * job (dateOfTimestamp helps with a fixed UTC offset, e.g. +480 minutes for Beijing time).
 */
export type IsoDate = string;

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

export function assertDate(d: string): IsoDate {
  const m = DATE.exec(d);
  if (!m) throw new LegalError("LEGAL_INVALID_INPUT", "not a YYYY-MM-DD date", { date: d });
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  if (new Date(t).toISOString().slice(0, 10) !== d) {
    throw new LegalError("LEGAL_INVALID_INPUT", "no such calendar date", { date: d });
  }
  return d;
}

export function addDays(d: IsoDate, n: number): IsoDate {
  const t = Date.parse(`${assertDate(d)}T00:00:00Z`) + n * 86_400_000;
  return new Date(t).toISOString().slice(0, 10);
}

/** Whole natural days from `from` (inclusive) to `to` (exclusive). */
export function daysBetween(from: IsoDate, to: IsoDate): number {
  return Math.round(
    (Date.parse(`${assertDate(to)}T00:00:00Z`) - Date.parse(`${assertDate(from)}T00:00:00Z`)) / 86_400_000,
  );
}

/** Every date from `from` to `to`, both inclusive. */
export function eachDay(from: IsoDate, to: IsoDate): IsoDate[] {
  const n = daysBetween(from, to);
  if (n < 0) throw new LegalError("LEGAL_INVALID_INPUT", "period ends before it starts", { from, to });
  return Array.from({ length: n + 1 }, (_, i) => addDays(from, i));
}

/** The calendar date of a unix timestamp (seconds) at a fixed UTC offset in minutes. */
export function dateOfTimestamp(unixSeconds: number, utcOffsetMinutes = 0): IsoDate {
  return new Date((unixSeconds + utcOffsetMinutes * 60) * 1000).toISOString().slice(0, 10);
}
