export type * from "./catalog.js";
export type * from "./common.js";
export type * from "./ip.js";
export type * from "./machine.js";
export type * from "./network.js";
