import type { Breadcrumb, BreadcrumbHint, ErrorEvent, EventHint, NodeOptions } from '@sentry/node';
import { redactStrings, scrubBreadcrumb, scrubEvent, type Redact } from './scrub.js';

/** A user's own hooks, run before plinth's scrubbing so whatever they add is scrubbed too. */
export interface UserHooks {
  readonly beforeSend?: NonNullable<NodeOptions['beforeSend']>;
  readonly beforeBreadcrumb?: NonNullable<NodeOptions['beforeBreadcrumb']>;
}

/**
 * Until the app is known (the preload runs before it exists) only URL passwords can be
 * recognised; attaching the plugin swaps in the app's full redactor.
 */
const maskUrlPasswords: Redact = (text) => text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)[^\s@/]+@/gi, '$1<redacted>@');

/**
 * The SDK's `beforeSend`/`beforeBreadcrumb`/`beforeSendSpan`, fixed at `init` (possibly in
 * the preload) while what they do is filled in later by the plugin: the app's redactor
 * and the user's own hooks.
 */
export class ScrubPipeline {
  #redact: Redact = maskUrlPasswords;
  #user: UserHooks = {};

  attach(redact: Redact, user: UserHooks): void {
    this.#redact = redact;
    this.#user = user;
  }

  readonly beforeSend = async (event: ErrorEvent, hint: EventHint): Promise<ErrorEvent | null> => {
    const own = this.#user.beforeSend ? await this.#user.beforeSend(event, hint) : event;
    return own === null ? null : scrubEvent(own, this.#redact);
  };

  readonly beforeBreadcrumb = (breadcrumb: Breadcrumb, hint?: BreadcrumbHint): Breadcrumb | null => {
    const own = this.#user.beforeBreadcrumb ? this.#user.beforeBreadcrumb(breadcrumb, hint) : breadcrumb;
    return own === null ? null : scrubBreadcrumb(own, this.#redact);
  };

  /** Span names and attributes can hold SQL text or URLs. */
  readonly beforeSendSpan: NonNullable<NodeOptions['beforeSendSpan']> = (span) => redactStrings(span, this.#redact);

  /** Used only when a user picks `traceLifecycle: 'static'`. */
  readonly beforeSendTransaction: NonNullable<NodeOptions['beforeSendTransaction']> = (event) => scrubEvent(event, this.#redact);

  /** The SDK warns about a transaction hook under the default (streamed) span lifecycle, so it is given only for 'static'. */
  sdkHooks(traceLifecycle: NodeOptions['traceLifecycle']): Pick<NodeOptions, 'beforeSend' | 'beforeBreadcrumb' | 'beforeSendSpan' | 'beforeSendTransaction'> {
    return {
      beforeSend: this.beforeSend,
      beforeBreadcrumb: this.beforeBreadcrumb,
      ...(traceLifecycle === 'static' ? { beforeSendTransaction: this.beforeSendTransaction } : { beforeSendSpan: this.beforeSendSpan }),
    };
  }
}
