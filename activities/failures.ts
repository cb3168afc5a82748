// Errors that retrying cannot fix become typed, non-retryable failures, so the workflow hears of
// them at once instead of after every retry (their types are listed in domain/definitions.ts).
import { ApplicationFailure } from '@temporalio/activity';
import { MailNotSentError } from '../connectors/mail/port.js';

/** Rendering a template that is missing or broken: a deploy fixes it, a retry does not. */
export async function rendering<T>(what: string, render: () => Promise<T>): Promise<T> {
  try {
    return await render();
  } catch (error) {
    throw ApplicationFailure.nonRetryable(
      `cannot render ${what}: ${error instanceof Error ? error.message : String(error)}`,
      'TemplateError',
    );
  }
}

/** An SMTP server's permanent refusal of a recipient (5xx on RCPT TO): resending changes nothing. */
export async function sending<T>(send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (error) {
    const smtp = (error instanceof MailNotSentError ? error.cause : error) as {
      code?: string;
      responseCode?: number;
      message?: string;
    };
    if (smtp?.code === 'EENVELOPE' && (smtp.responseCode ?? 0) >= 500)
      throw ApplicationFailure.nonRetryable(
        `the mail server refused a recipient: ${smtp.message}`,
        'RecipientRejected',
      );
    throw error;
  }
}
