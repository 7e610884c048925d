import * as Comlink from 'comlink';
import { WorkbenchSession } from './workbenchSession.ts';

// The worker hosts the session; the UI talks to it only through Comlink.
Comlink.expose(new WorkbenchSession());
