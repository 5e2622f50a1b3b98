import js from "@eslint/js";
import { createTypeScriptImportResolver } from "eslint-import-resolver-typescript";
import { importX } from "eslint-plugin-import-x";
import tseslint from "typescript-eslint";

// Which way dependencies point (docs/architecture.md). ESLint applies the last matching block's options for a rule,
// so each block below repeats the rules of the blocks it narrows.
const CAPABILITIES = "keeper|kyc|oracle|orderbook|portfolio|providers|reserves|risk|settlement|web";
const up = "^(\\.\\./|\\./)*"; // any number of ../ (a path leaving the importing folder)
const productOnly = {
  regex: `${up}(\\.\\./)+(scripts|test|bench|fixtures)(/|$)`,
  message:
    "product code (offchain/) never imports scripts/, test/, bench/ or fixtures/: move what both need into offchain/",
};
const notTheComposition = {
  regex: `${up}(main|service/compose)$`,
  message: "only offchain/main.ts composes the service; a module never imports it",
};
const noCapability = {
  regex: `${up}(\\.\\./)+(${CAPABILITIES}|api|chain|service|store)(/|$)`,
  message: "offchain/shared is the bottom layer: it imports nothing else of offchain/ (docs/architecture.md)",
};
const storeNoCapability = {
  regex: `^\\.\\./(\\.\\./)?((${CAPABILITIES.replace("settlement|", "")}|api|chain|service)(/|$)|settlement/(?!(legal|agreementEnd)/port$))`,
  message:
    "offchain/store never imports a capability; a capability owns its records and repository port (e.g. settlement/legal/port.ts, settlement/agreementEnd/port.ts), the store implements it",
};
const infraNoCapability = {
  regex: `^(\\.\\./)+(${CAPABILITIES}|service)(/|$)`,
  message: "api/ and chain/ are infrastructure: they never import a capability or the service composition",
};
const noTestHelpers = {
  regex: `^(\\.\\./)+test(/|$)`,
  message: "benchmarks and fixtures never import test/: what both need lives in fixtures/",
};

export default tseslint.config(
  {
    ignores: [
      "node_modules/",
      "artifacts/",
      "cache/",
      "typechain-types/",
      "dist/",
      "data/",
      ".data/",
      "offchain/web/static/vendor/",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-explicit-any": "error",
      "no-console": "off",
    },
  },
  {
    // No import cycle anywhere in our TypeScript (docs/architecture.md). The typechain output is generated and left out.
    files: ["**/*.ts"],
    plugins: { "import-x": importX },
    settings: {
      "import-x/extensions": [".ts", ".js"],
      "import-x/parsers": { "@typescript-eslint/parser": [".ts"] },
      "import-x/resolver-next": [createTypeScriptImportResolver({ project: "tsconfig.json" })],
    },
    rules: { "import-x/no-cycle": ["error", { ignoreExternal: true }] },
  },
  {
    // The service logs through its JSON logger only; scripts, benches and tests may print.
    files: ["offchain/**/*.ts"],
    ignores: ["offchain/cli/**", "offchain/**/cli.ts"],
    rules: { "no-console": "error" },
  },
  {
    files: ["test/**/*.ts"],
    rules: { "@typescript-eslint/no-unused-expressions": "off" },
  },
  {
    files: ["offchain/**/*.ts"],
    rules: { "no-restricted-imports": ["error", { patterns: [productOnly, notTheComposition] }] },
  },
  {
    files: ["offchain/main.ts"],
    rules: { "no-restricted-imports": ["error", { patterns: [productOnly] }] },
  },
  {
    files: ["offchain/shared/**/*.ts"],
    rules: { "no-restricted-imports": ["error", { patterns: [productOnly, notTheComposition, noCapability] }] },
  },
  {
    files: ["offchain/store/**/*.ts"],
    rules: { "no-restricted-imports": ["error", { patterns: [productOnly, notTheComposition, storeNoCapability] }] },
  },
  {
    files: ["offchain/api/**/*.ts", "offchain/chain/**/*.ts"],
    rules: { "no-restricted-imports": ["error", { patterns: [productOnly, notTheComposition, infraNoCapability] }] },
  },
  {
    files: ["offchain/service/**/*.ts"],
    rules: { "no-restricted-imports": ["error", { patterns: [productOnly, notTheComposition, infraNoCapability] }] },
  },
  {
    files: ["bench/**/*.ts", "fixtures/**/*.ts"],
    rules: { "no-restricted-imports": ["error", { patterns: [noTestHelpers] }] },
  },
);
