/**
 * Messages that the engine recognises and the emulator produces, defined once so both agree.
 */

/**
 * The failure message of an export whose output does not fit in the user's Drive.
 * UNVERIFIED: Google's exact wording was not found in any public source (docs/earth-engine-client.md#failure-messages).
 * Replace it here when someone sees the real one; the engine matches it with `isDriveFullMessage`.
 */
export const DRIVE_FULL_MESSAGE = 'Export failed: the Google Drive storage quota has been exceeded.';

/** Matches the message above and the Drive API's own wording, whichever EE passes through. */
export function isDriveFullMessage(message: string): boolean {
  return message === DRIVE_FULL_MESSAGE || /storage quota has been exceeded|storageQuotaExceeded|Drive.*(is )?full/i.test(message);
}
