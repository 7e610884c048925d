import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { DevicePreference } from '../backend/index.ts';
import { errorMessage } from '../core/errors.ts';
import { UsageError } from './errors.ts';

/** `parseArgs` for every command, its errors turned into usage errors naming the command and the option. */
export function parseCliArgs<const O extends NonNullable<ParseArgsConfig['options']>>(
  command: string,
  args: string[],
  options: O,
) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    // parseArgs words its errors well ("Unknown option '--jsno'"); keep them, drop its hint to use `--`.
    const message = errorMessage(e).replace(/\. To specify a positional.*$/s, '');
    throw new UsageError(message, command, { input: /'(-[^']*)'/.exec(message)?.[1] });
  }
}

/** What `--device` may name in Node, and what it means when it is not given. */
export type CliDevice = Extract<DevicePreference, 'cpu' | 'webgpu' | 'auto'>;
const CLI_DEVICES: readonly CliDevice[] = ['cpu', 'webgpu', 'auto'];
export const DEFAULT_CLI_DEVICE: CliDevice = 'cpu';

/**
 * `--device cpu|webgpu|auto`: onnxruntime-node, onnxruntime-web's WebGPU provider on Dawn, or WebGPU
 * when a real GPU adapter exists. CPU unless given: it is the fastest where there is no GPU, and the
 * CLI's figures stay comparable from run to run.
 */
export function parseDevice(command: string, value: unknown): CliDevice {
  if (value === undefined) return DEFAULT_CLI_DEVICE;
  if (typeof value === 'string' && (CLI_DEVICES as readonly string[]).includes(value))
    return value as CliDevice;
  throw new UsageError(`--device must be ${CLI_DEVICES.join(', ')}, got "${String(value)}"`, command, {
    input: '--device',
  });
}
