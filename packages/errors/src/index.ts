export { AppError, PermanentError, isPermanent } from './app-error.ts';
export { decodeError, describeError, describeErrorData, encodeError } from './error-data.ts';
