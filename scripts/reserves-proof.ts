/**
 * Extracts one client's proof file from a published data set (what the API serves to that client).
 *   npx ts-node --transpile-only scripts/reserves-proof.ts --data <data set dir> --account <id> > proof.json
 */
import { parseArgs } from "node:util";
import { findClientProof } from "../offchain/reserves";

const { values } = parseArgs({ options: { data: { type: "string" }, account: { type: "string" } } });
if (!values.data || !values.account) {
  console.error("usage: reserves-proof.ts --data <dir> --account <id>");
  process.exit(2);
}
const proof = findClientProof(values.data, values.account);
if (!proof) {
  console.error(`account ${values.account} is not in ${values.data}`);
  process.exit(1);
}
console.log(JSON.stringify(proof, null, 2));
