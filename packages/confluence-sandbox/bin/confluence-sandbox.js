#!/usr/bin/env node
// The installed `confluence-sandbox` command: runs the compiled entry point. It is committed
// (dist/ is not) so that pnpm can link it on a fresh checkout, before the build writes
// dist/bin.js; a bin pointing into dist/ is left unlinked there, with a warning per dependent package.
import "../dist/bin.js";
