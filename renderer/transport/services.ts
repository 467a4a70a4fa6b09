import type { HttpRoutedName } from '../../shared/http-routes';

/** The job wizard's channels (shared/ipc.ts), called by the same names on every transport. */
export type WizardName = 'previewGrid' | 'createJob' | 'checkRecipe';

/**
 * The calls behind the settings, sign-in, assets and checks panels: the channels of shared/ipc.ts that
 * are neither the jobs' nor the wizard's (how each travels comes from the channel map, not from here).
 */
export type ServiceName = Exclude<HttpRoutedName, 'snapshot' | 'summary' | 'tile' | 'command' | WizardName>;
