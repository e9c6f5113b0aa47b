/**
 * The container image this repository builds for the sidecar (`images/sidecar/Containerfile`):
 * one definition of its name, tag and user, imported by `dify-sso deploy` and by the build and
 * test scripts.
 *
 * @module
 */

/** Repository part of the image reference. */
export const SIDECAR_IMAGE_REPOSITORY = 'dify-sso-kit/sidecar';

/** Version of `@dify-sso-kit/sidecar` (its package.json; a test keeps the two equal): the image tag. */
export const SIDECAR_VERSION = '0.1.0';

/** The image reference `dify-sso deploy` writes by default, and the tag the build gives the image. */
export const SIDECAR_IMAGE = `${SIDECAR_IMAGE_REPOSITORY}:${SIDECAR_VERSION}`;

/** Fixed non-root uid and gid the image runs as (distroless `nonroot`). */
export const SIDECAR_IMAGE_UID = 65532;

/** Port the image listens on by default (`DIFY_SSO_LISTEN=0.0.0.0:8080` in the image). */
export const SIDECAR_IMAGE_PORT = 8080;

/** Where the image carries its CycloneDX SBOM. */
export const SIDECAR_IMAGE_SBOM_PATH = '/usr/share/doc/dify-sso-sidecar/sbom.cdx.json';
