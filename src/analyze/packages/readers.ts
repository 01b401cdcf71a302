/** Every ecosystem strata reads, one reader each (docs/packages.md). */
import type { PackageReader } from './types.js';
import { dpkgReader } from './dpkg.js';
import { apkReader } from './apk.js';
import { rpmReader } from './rpm/reader.js';
import { pypiReader } from './pypi.js';
import { npmReader } from './npm.js';

export const READERS: readonly PackageReader[] = [dpkgReader, apkReader, rpmReader, pypiReader, npmReader];
