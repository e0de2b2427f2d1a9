/** Messages between the capacity benchmark's orchestrator and its client processes. */

/** Orchestrator to client process. */
export type ClientCommand =
  | { readonly cmd: 'open'; readonly count: number }
  | { readonly cmd: 'reset' }
  | { readonly cmd: 'samples' }
  | { readonly cmd: 'exit' };

/** Client process to orchestrator. */
export type ClientReport =
  | { readonly kind: 'ready' }
  | { readonly kind: 'progress'; readonly open: number; readonly failed: number }
  | {
      readonly kind: 'opened';
      readonly open: number;
      readonly failed: number;
      readonly seconds: number;
      /** Failure reasons (first 80 characters) and how often each happened. */
      readonly failures: Record<string, number>;
    }
  | { readonly kind: 'reset' }
  | {
      readonly kind: 'samples';
      /** Milliseconds from publish to delivery, one per delivered message. */
      readonly delays: number[];
      /** Connections still open. */
      readonly open: number;
      /** Connections the server closed after they had subscribed. */
      readonly closedAfterOpen: number;
    };
