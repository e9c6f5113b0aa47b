// dify-sso-kit e2e fixture: a Next.js standalone build, like a Dify console's.
/** @type {import('next').NextConfig} */
const nextConfig = {
  output: 'standalone',
  poweredByHeader: false,
  // The codemods' own tests type-check their output; the image build only has to bundle it.
  typescript: { ignoreBuildErrors: true },
}

export default nextConfig
