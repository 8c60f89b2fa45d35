// Exit codes are a promise to users and CI jobs.
export const EXIT_OK = 0;
/** A gate or a finding tripped. */
export const EXIT_TRIPPED = 1;
export const EXIT_ERROR = 2;
