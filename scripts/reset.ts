/**
 * npm run reset — discards the embedded default's state: the data directory (recorded chain, SQLite database,
 * reserves data sets) and deployments/localhost.json. The next `npm start` begins a new chain.
 */
import { rmSync } from "node:fs";
import path from "node:path";
import { configFromEnv } from "../offchain/shared/config";
import { deploymentPath } from "./deploy/index";

const dataDir = path.resolve(configFromEnv(process.env).dataDir);
rmSync(dataDir, { recursive: true, force: true });
rmSync(deploymentPath("localhost"), { force: true });
console.log(`removed ${dataDir} and ${deploymentPath("localhost")}`);
