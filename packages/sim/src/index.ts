// @dpns/sim: checking what a dpns cluster did, from what its clients saw.
export { checkLinearizable } from './linearizability.js';
export type { CheckOptions, CheckResult } from './linearizability.js';
export { checkBoundedStaleness } from './bounded-staleness.js';
export type { SplitHistory, StalenessOptions } from './bounded-staleness.js';
export { returned } from './history.js';
export type { Model, Operation, ReadWriteModel, StepResult } from './history.js';
export type { Witness } from './explanation.js';
export { registryModel } from './registry-model.js';
export type { RegistryInput, RegistryOutput, RegistryState, RegistryOperation } from './registry-model.js';
export { seededRandom } from './random.js';
export { classifyAnswer } from './registry-answers.js';
export type { AnswerClass, WireAnswer } from './registry-answers.js';
