/**
 * The calls behind the settings, sign-in and assets panels, named as their IPC channels (shared/ipc.ts);
 * `tessera serve` answers them on the HTTP routes below (main/server/services.ts).
 */
export const SERVICE_ROUTES = {
  getSettings: { method: 'GET', path: '/api/settings' },
  setSettings: { method: 'PUT', path: '/api/settings' },
  authStatus: { method: 'GET', path: '/api/auth' },
  signIn: { method: 'POST', path: '/api/auth/sign-in' },
  signOut: { method: 'POST', path: '/api/auth/sign-out' },
  cancelSignIn: { method: 'POST', path: '/api/auth/cancel' },
  setOAuthClient: { method: 'PUT', path: '/api/auth/client' },
  listAssets: { method: 'POST', path: '/api/assets/list' },
  deleteAssets: { method: 'POST', path: '/api/assets/delete' },
  runDoctor: { method: 'POST', path: '/api/doctor' },
} as const;

export type ServiceName = keyof typeof SERVICE_ROUTES;
