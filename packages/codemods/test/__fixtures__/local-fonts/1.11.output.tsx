import type { ReactNode } from 'react'
import localFont from 'next/font/local'

// dify-sso-kit test fixture, made up for the codemod tests: a root layout with the 1.11 shape
// local-fonts edits (one Google font called with an object literal, used as a CSS variable).
const serifFont = localFont({
  src: [
    { path: './fonts/dify-sso/instrument-serif-latin-400-normal.woff2', weight: '400', style: 'normal' },
    { path: './fonts/dify-sso/instrument-serif-latin-400-italic.woff2', weight: '400', style: 'italic' },
  ],
  variable: '--sso-fixture-serif',
  display: 'swap',
})

export default function RootLayoutSketch({ children }: { children: ReactNode }) {
  return (
    <html lang="en" className={serifFont.variable}>
      <body className="sso-fixture-body">{children}</body>
    </html>
  )
}
