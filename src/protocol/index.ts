/**
 * The sans-I/O RFC 6455 core: bytes in, calls out; calls in, bytes out. No Node built-ins.
 * @packageDocumentation
 */
export * from './constants.js';
export * from './errors.js';
export * from './utf8.js';
export * from './mask.js';
export * from './close.js';
export * from './frame.js';
export * from './receiver.js';
export * from './header-values.js';
export * from './handshake.js';
export * from './permessage-deflate.js';
export * from './extended-connect.js';
export * from './prepared-frame.js';
