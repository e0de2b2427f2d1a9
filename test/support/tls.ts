/**
 * A self-signed certificate for 127.0.0.1 and localhost, made at test time with the `openssl`
 * command (Node's crypto makes keys, not certificates). Without `openssl` a test skips naming the
 * package to install, except under `CI=true`, where it fails.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

/** A certificate and key on disk, with their PEM text and the SPKI pin Chromium takes. */
export interface TestCertificate {
  certFile: string;
  keyFile: string;
  cert: string;
  key: string;
  /** base64(SHA-256(SubjectPublicKeyInfo)): `--ignore-certificate-errors-spki-list=<this>`. */
  spki: string;
}

/** Makes a fresh certificate (removed when the test ends), or skips `t` when `openssl` is missing. */
export function makeCertificate(t: TestContext): TestCertificate | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'parley-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout', keyFile, '-out', certFile,
    ], { stdio: 'pipe' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    const message = 'the openssl command is missing: install the Debian package `openssl`';
    if (process.env.CI === 'true') assert.fail(message);
    t.skip(message);
    return undefined;
  }
  const cert = readFileSync(certFile, 'utf8');
  const spkiDer = new X509Certificate(cert).publicKey.export({ type: 'spki', format: 'der' });
  return { certFile, keyFile, cert, key: readFileSync(keyFile, 'utf8'), spki: createHash('sha256').update(spkiDer).digest('base64') };
}
