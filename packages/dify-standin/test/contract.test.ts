/**
 * The console contract, against the stand-in (default) or a real dify-api when
 * `DIFY_CONTRACT_API_URL` is set (see test/contract/target.ts and the package README).
 */
import { contractSuite } from './contract/suite.js';
import { envTarget, realTargetConfigured, standinTarget } from './contract/target.js';

contractSuite(() => (realTargetConfigured() ? envTarget() : standinTarget()));
