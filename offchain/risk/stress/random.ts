import { RiskError } from "../errors";

/**
 * Seeded pseudo-random numbers for Monte Carlo: xoshiro128** (Blackman & Vigna) seeded through splitmix32, so a
 * seed reproduces every path bit for bit on any platform. Not for anything secret.
 */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare: number | undefined;

  constructor(seed: number) {
    let x = seed >>> 0;
    const splitmix = () => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = splitmix();
    this.s1 = splitmix();
    this.s2 = splitmix();
    this.s3 = splitmix();
  }

  /** Next 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3 >>> 0, 11);
    this.s0 >>>= 0;
    this.s1 >>>= 0;
    this.s2 >>>= 0;
    return result;
  }

  /** Uniform in the open interval (0, 1), 53 bits. */
  uniform(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo + 0.5) / 9007199254740992;
  }

  /** Standard normal (Box–Muller, the second value of each pair kept for the next call). */
  normal(): number {
    if (this.spare !== undefined) {
      const z = this.spare;
      this.spare = undefined;
      return z;
    }
    const radius = Math.sqrt(-2 * Math.log(this.uniform()));
    const angle = 2 * Math.PI * this.uniform();
    this.spare = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  }

  /** Chi-square with an integer number of degrees of freedom: a sum of squared normals. */
  chiSquare(degreesOfFreedom: number): number {
    let sum = 0;
    for (let k = 0; k < degreesOfFreedom; k++) {
      const z = this.normal();
      sum += z * z;
    }
    return sum;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/**
 * Lower-triangular L with L·Lᵀ = the correlation matrix (Cholesky–Banachiewicz). Rejects a matrix that is not
 * square, symmetric, with unit diagonal and positive definite.
 */
export function cholesky(correlation: readonly (readonly number[])[]): number[][] {
  const n = correlation.length;
  const bad = (why: string) => new RiskError("RISK_INVALID_CORRELATION", `correlation matrix ${why}`, { correlation });
  for (let i = 0; i < n; i++) {
    if (correlation[i].length !== n) throw bad("is not square");
    if (Math.abs(correlation[i][i] - 1) > 1e-12) throw bad("needs a unit diagonal");
    for (let j = 0; j < i; j++) {
      if (Math.abs(correlation[i][j] - correlation[j][i]) > 1e-12) throw bad("is not symmetric");
      if (Math.abs(correlation[i][j]) > 1) throw bad("has an entry outside [-1, 1]");
    }
  }
  const l = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = correlation[i][j];
      for (let k = 0; k < j; k++) sum -= l[i][k] * l[j][k];
      if (i === j) {
        if (sum <= 1e-12) throw bad("is not positive definite");
        l[i][i] = Math.sqrt(sum);
      } else {
        l[i][j] = sum / l[j][j];
      }
    }
  }
  return l;
}
