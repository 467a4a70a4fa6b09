/** The tray icon (a 32 px checker of tiles), inline so the bundle needs no asset file. */
export const TRAY_ICON_PNG_BASE64 =
  'iVBORw0KGgoAAAANSUhEUgAAACAAAAAgCAYAAABzenr0AAAATElEQVR4nO3OMREAIAxD0arAAWawgTTkIaI4aAcul+UPGf/lxTgrq819y/32AQAAADtAfdD1AAAA8APUB10PAAAAP0B90PUAAACwAx5NI+h5D8Jo9gAAAABJRU5ErkJggg==';
