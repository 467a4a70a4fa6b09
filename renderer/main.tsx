import 'leaflet/dist/leaflet.css';
import './styles.css';
import { createRoot } from 'react-dom/client';
import { z } from 'zod';
import { TesseraClient } from './api';
import { App } from './components/App';
import { DashboardStore } from './store';
import { ElectronTransport, preloadApi } from './transport/electron';
import { HttpSseTransport } from './transport/http-sse';

// The page's CSP forbids eval: tell zod not to try its compiled validators.
z.config({ jitless: true });

/**
 * The token of `tessera serve` arrives in the URL fragment (never sent to a server); it is kept for this
 * tab only and removed from the address bar, so it does not end up in screenshots or bookmarks.
 */
function takeToken(): string {
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (m) {
    const token = decodeURIComponent(m[1]!);
    sessionStorage.setItem('tessera-token', token);
    history.replaceState(null, '', location.pathname + location.search);
    return token;
  }
  return sessionStorage.getItem('tessera-token') ?? '';
}

// Inside the desktop app the preload exposes `window.tessera`; in a browser, `tessera serve`'s HTTP API.
const bridge = preloadApi();
const client = new TesseraClient(bridge ? new ElectronTransport(bridge) : new HttpSseTransport({ token: takeToken() }));
const store = new DashboardStore();
createRoot(document.getElementById('root')!).render(<App client={client} store={store} />);
