/** "2 × Intel(R) Xeon(R) ..., Node v20.20.2, linux x64". */
import { cpus } from 'node:os';

export function machineDescription(): string {
  const list = cpus();
  return `${list.length} × ${list[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version}, ${process.platform} ${process.arch}`;
}
