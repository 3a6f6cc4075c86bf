// Typed operations from the committed SDL: `npm run codegen` (make examples runs it before tsc).
import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  schema: "../../schema/ctxapi.graphql",
  documents: ["src/**/*.graphql"],
  generates: {
    "src/generated/graphql.ts": {
      plugins: ["typescript", "typescript-operations", "typed-document-node"],
      config: {
        strictScalars: true, // a new scalar in the SDL must be mapped here, not become `any`
        scalars: { DateTime: "string" }, // ISO-8601 text with its zone
        onlyOperationTypes: true, // the enums and inputs the operations use, not every type
        enumsAsConst: true, // `Channel.PHONE` at run time as well as a type
        namingConvention: { enumValues: "keep" },
        useTypeImports: true,
        skipTypename: true,
      },
    },
  },
  emitLegacyCommonJSImports: false,
};

export default config;
