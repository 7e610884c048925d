// First: configures zod before any module builds a schema (see zodConfig.ts).
import '../core/zodConfig.ts';
import * as Comlink from 'comlink';
import { installErrorTransfer } from './errorTransfer.ts';
import { WorkbenchSession } from './workbenchSession.ts';

// The worker hosts the session; the UI talks to it only through Comlink, errors included.
installErrorTransfer();
Comlink.expose(new WorkbenchSession());
