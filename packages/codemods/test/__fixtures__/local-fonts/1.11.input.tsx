import type { ReactNode } from 'react'
import { Instrument_Serif } from 'next/font/google'

// dify-sso-kit test fixture, made up for the codemod tests: a root layout with the 1.11 shape
// local-fonts edits (one Google font called with an object literal, used as a CSS variable).
const serifFont = Instrument_Serif({
  weight: '400',
  variable: '--sso-fixture-serif',
})

export default function RootLayoutSketch({ children }: { children: ReactNode }) {
  return (
    <html lang="en" className={serifFont.variable}>
      <body className="sso-fixture-body">{children}</body>
    </html>
  )
}
