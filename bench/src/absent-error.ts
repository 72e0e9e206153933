/**
 * Thrown by a benchmark whose subject does not exist (yet), e.g. an API
 * endpoint that is not mounted: the report lists it as absent with this
 * message, rather than a made-up figure.
 */
export class AbsentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AbsentError';
  }
}
