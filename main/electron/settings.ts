/**
 * The desktop app's settings: the engine-side service (main/core/settings) over electron-store. Kept as
 * its own module so the composition root reads the same way as the other desktop services.
 */
export { DEFAULT_SETTINGS, SettingsService, settingsJsonSchema, type KeyValueStore } from '../core/settings/settings';
