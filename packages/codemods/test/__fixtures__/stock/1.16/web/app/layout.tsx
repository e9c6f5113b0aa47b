import type { Viewport } from 'next'
import { ThemeProvider } from 'next-themes'
import './styles/globals.css'

// Minimal reproduction of the shape of the root layout (not Dify's source).
export const viewport: Viewport = {
  width: 'device-width',
}

const LocaleLayout = async ({ children }: { children: React.ReactNode }) => {
  return (
    <html lang="en" className="h-full" suppressHydrationWarning>
      <body className="h-full bg-background-body">
        <ThemeProvider attribute="data-theme">{children}</ThemeProvider>
      </body>
    </html>
  )
}

export default LocaleLayout
