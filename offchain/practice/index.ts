export { practiceCapability } from "./capability";
export { ensurePracticeSchema, practiceEnabled, practiceNetwork, practiceServiceConfig } from "./config";
export { PRACTICE_START_WHOLE } from "./start";
