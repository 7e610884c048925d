/**
 * zod without code generation. zod 4 compiles object parsers with `new Function` and probes for it
 * when each object schema is built, which the page's Content-Security-Policy (`script-src` without
 * `'unsafe-eval'`) refuses and reports as a violation. Spec and settings parsing are far from any hot
 * path, so the interpreted parser costs nothing that matters. Imported first by the page's and the
 * worker's entry modules, before any schema exists.
 */
import { z } from 'zod';

z.config({ jitless: true });
