import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/", "artifacts/", "cache/", "typechain-types/", "dist/", "data/", "offchain/web/static/vendor/"] },
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
    // The service logs through its JSON logger only; scripts, benches and tests may print.
    files: ["offchain/**/*.ts"],
    ignores: ["offchain/cli/**", "offchain/**/cli.ts"],
    rules: { "no-console": "error" },
  },
  {
    files: ["test/**/*.ts"],
    rules: { "@typescript-eslint/no-unused-expressions": "off" },
  },
);
