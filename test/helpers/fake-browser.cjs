#!/usr/bin/env node
// Plays the user's browser for sign-in tests: follows the authorization URL's redirects (the emulator
// approves at once) to the app's loopback server. FAKE_BROWSER=tamper-state changes `state` on the way
// back; FAKE_BROWSER=ignore never answers (the app must time out).
const mode = process.env.FAKE_BROWSER || 'follow';
const url = process.argv[2];
(async () => {
  if (mode === 'ignore') return;
  let next = url;
  for (let hop = 0; hop < 5; hop++) {
    const res = await fetch(next, { redirect: 'manual' });
    const location = res.headers.get('location');
    if (!location) return;
    const target = new URL(location, next);
    if (mode === 'tamper-state' && target.searchParams.has('state')) target.searchParams.set('state', 'forged');
    next = target.toString();
  }
})().catch((e) => {
  console.error(`fake browser: ${e.message}`);
  process.exit(1);
});
