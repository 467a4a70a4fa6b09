// `npm start`: the desktop app. Until the desktop shell lands, say so in one line instead of failing
// with a stack trace (Electron's binary also cannot be downloaded on machines without internet).
console.error('tessera: the desktop shell is not part of this build yet; use the CLI meanwhile (npx tessera --help)');
process.exit(1);
