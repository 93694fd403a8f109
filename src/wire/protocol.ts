/**
 * The sync protocol's requests and answers (docs/sync-protocol.md describes them). Types only: the server checks
 * what it receives, a client checks what it receives.
 */
import type { WireRecord } from './records.js';

/** `POST {base}/push` */
export interface PushRequest {
  records: WireRecord[];
  /**
   * Names the local database the records come from; pulls that pass the same id skip the records it pushed.
   * A new database takes a new id.
   */
  clientId?: string;
}

export interface PushResponse {
  /** Records stored by this push. */
  stored: number;
  /** Records the server already held (an earlier try of this push, another device): ignored, as is safe. */
  duplicates: number;
  /**
   * Threads of this push that were deleted (`deleteThread`, here or on another device): their records were
   * dropped. The client deletes them locally too.
   */
  deletedThreads: string[];
  /**
   * Records of this push that belong to checkpoints pruned everywhere (`prune` with `everywhere`, here or on another
   * device), and values only those named: dropped. Absent when none.
   */
  pruned?: number;
  /**
   * The user's cursors right before and right after this push's commit, when it numbered any change. A client whose
   * cursor is `from` holds everything up to `to` (the rest is its own push, which its pulls skip): it can take `to`
   * as its cursor, and needs no pull when the live stream announces it.
   */
  commit?: { from: string; to: string };
}

/** `POST {base}/pull` */
export interface PullRequest {
  /** The `cursor` of the previous answer; absent or null to start from the beginning. */
  cursor?: string | null;
  /** How many changes at most in this page. */
  limit?: number;
  /** Only these threads (of the user's own). A cursor is only good for the thread set it was pulled with. */
  threads?: string[];
  /** The `clientId` the client pushes with: records it pushed itself are skipped. */
  clientId?: string;
}

export interface PullResponse {
  /** Changes in the order the server committed them: a list's versions and a checkpoint's values come first. */
  changes: WireRecord[];
  /** Where the next pull starts. */
  cursor: string;
  /** More changes wait: pull again with `cursor` right away. */
  more: boolean;
  /**
   * The cursor sent was not one this server issued to this user (another database, a reset, a forged value):
   * this answer starts from the beginning. The client keeps what it has (merging is a union), pulls every page,
   * and pushes again whatever it holds that the server may have lost.
   */
  resync: boolean;
}

/** The `data` of the `change` event of `GET {base}/live`: the server's newest cursor for the user. */
export interface LiveChange {
  cursor: string;
}

export type SyncErrorCode =
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'method_not_allowed'
  | 'unsupported_media_type'
  | 'payload_too_large'
  | 'too_many_records'
  | 'invalid_json'
  | 'invalid_request'
  | 'internal';

/** The body of every answer that is not a 2xx. */
export interface SyncErrorBody {
  error: { code: SyncErrorCode; message: string };
}
