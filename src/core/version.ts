import { version } from '../../package.json';

/** The engine's version, recorded in every model it writes. */
export const ENGINE_VERSION: string = version;
