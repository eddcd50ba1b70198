<?xml version="1.0" encoding="utf-8"?>
<!-- An Atom feed of the site shown as a page in a browser (the feed names this file in its
     xml-stylesheet instruction); news readers ignore it and read the Atom.
     Every text of the feed is output as text (value-of), never as markup; the page runs no
     script and has no inline style: the site's style.css draws it, dark scheme included.
     Links are given as the site's own paths when they lie under the feed's xml:base, so that
     a preview on another host stays on that host. -->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:atom="http://www.w3.org/2005/Atom"
    exclude-result-prefixes="atom">

<xsl:output method="html" encoding="utf-8" doctype-system="about:legacy-compat" indent="no"/>

<!-- The site's path, from this stylesheet's own address in the feed's instruction
     (`href="/archivio/assets/feed.1a2b3c4d.xsl"` gives `/archivio/`): the feed does not
     name it. The address is matched without its content hash, which this file cannot hold. -->
<xsl:variable name="instruction" select="string(/processing-instruction('xml-stylesheet'))"/>
<xsl:variable name="own" select="substring-before(substring-after($instruction, 'href=&quot;'), '&quot;')"/>
<xsl:variable name="root">
  <xsl:choose>
    <xsl:when test="contains($own, 'assets/feed.')">
      <xsl:value-of select="substring-before($own, 'assets/feed.')"/>
    </xsl:when>
    <xsl:otherwise>/</xsl:otherwise>
  </xsl:choose>
</xsl:variable>
<xsl:variable name="base" select="string(/atom:feed/@xml:base)"/>
<xsl:variable name="lang" select="string(/atom:feed/@xml:lang)"/>
<!-- The language of the page's own words: the feed's when they are written here, else English. -->
<xsl:variable name="ui">
  <xsl:variable name="code" select="substring($lang, 1, 2)"/>
  <xsl:choose>
    <xsl:when test="$code = 'it' or $code = 'fr' or $code = 'de' or $code = 'es'">
      <xsl:value-of select="$code"/>
    </xsl:when>
    <xsl:otherwise>en</xsl:otherwise>
  </xsl:choose>
</xsl:variable>

<xsl:template match="/">
  <xsl:apply-templates select="atom:feed"/>
</xsl:template>

<xsl:template match="atom:feed">
  <html lang="{$lang}">
    <head>
      <meta name="viewport" content="width=device-width, initial-scale=1"/>
      <title><xsl:value-of select="atom:title"/></title>
      <link rel="stylesheet" href="{$root}assets/style.css"/>
      <link rel="icon" href="{$root}favicon.ico" sizes="32x32"/>
      <link rel="icon" href="{$root}assets/icon.svg" type="image/svg+xml"/>
    </head>
    <body class="feed">
      <header class="masthead">
        <p class="site-title"><a href="{$root}"><xsl:value-of select="atom:author/atom:name"/></a></p>
      </header>
      <main id="main">
        <h1><xsl:value-of select="atom:title"/></h1>
        <div class="feed-about">
          <xsl:if test="$ui != $lang">
            <xsl:attribute name="lang"><xsl:value-of select="$ui"/></xsl:attribute>
          </xsl:if>
          <p><xsl:call-template name="says"><xsl:with-param name="what" select="'about'"/></xsl:call-template></p>
          <p><code class="feed-url">
            <xsl:call-template name="breakable">
              <xsl:with-param name="text" select="string(atom:link[@rel='self']/@href)"/>
            </xsl:call-template>
          </code></p>
          <xsl:for-each select="atom:link[@rel='alternate'][1]">
            <p>
              <xsl:call-template name="link">
                <xsl:with-param name="href" select="@href"/>
                <xsl:with-param name="text">
                  <xsl:call-template name="says"><xsl:with-param name="what" select="'site'"/></xsl:call-template>
                </xsl:with-param>
              </xsl:call-template>
            </p>
          </xsl:for-each>
        </div>
        <div class="teasers">
          <xsl:apply-templates select="atom:entry"/>
        </div>
      </main>
    </body>
  </html>
</xsl:template>

<xsl:template match="atom:entry">
  <article class="teaser" lang="{@xml:lang}">
    <h2>
      <xsl:call-template name="link">
        <xsl:with-param name="href" select="atom:link[@rel='alternate'][1]/@href"/>
        <xsl:with-param name="text" select="atom:title"/>
      </xsl:call-template>
    </h2>
    <!-- An undated entry's `updated` is the build's time, not the article's: no date. -->
    <xsl:if test="atom:published">
      <p class="byline"><time datetime="{atom:published}"><xsl:value-of select="substring(atom:published, 1, 10)"/></time></p>
    </xsl:if>
    <p class="summary"><xsl:value-of select="atom:summary"/></p>
  </article>
</xsl:template>

<!-- A link to `href` (the site's own path when it lies under the feed's base); an address
     that is not http(s) is not made a link. -->
<xsl:template name="link">
  <xsl:param name="href"/>
  <xsl:param name="text"/>
  <xsl:choose>
    <xsl:when test="$base != '' and starts-with($href, $base)">
      <a href="{concat($root, substring($href, string-length($base) + 1))}"><xsl:value-of select="$text"/></a>
    </xsl:when>
    <xsl:when test="starts-with($href, 'https://') or starts-with($href, 'http://')">
      <a href="{$href}"><xsl:value-of select="$text"/></a>
    </xsl:when>
    <xsl:otherwise><xsl:value-of select="$text"/></xsl:otherwise>
  </xsl:choose>
</xsl:template>

<!-- A URL with a line break allowed after each slash of its path (<wbr>, which copying
     leaves out): a long address must not widen a phone's page. -->
<xsl:template name="breakable">
  <xsl:param name="text"/>
  <xsl:choose>
    <xsl:when test="contains($text, '://')">
      <xsl:value-of select="concat(substring-before($text, '://'), '://')"/>
      <xsl:call-template name="breakable">
        <xsl:with-param name="text" select="substring-after($text, '://')"/>
      </xsl:call-template>
    </xsl:when>
    <xsl:when test="contains($text, '/')">
      <xsl:value-of select="concat(substring-before($text, '/'), '/')"/>
      <wbr/>
      <xsl:call-template name="breakable">
        <xsl:with-param name="text" select="substring-after($text, '/')"/>
      </xsl:call-template>
    </xsl:when>
    <xsl:otherwise><xsl:value-of select="$text"/></xsl:otherwise>
  </xsl:choose>
</xsl:template>

<!-- The page's own words, in $ui. -->
<xsl:template name="says">
  <xsl:param name="what"/>
  <xsl:choose>
    <xsl:when test="$what = 'about' and $ui = 'it'">Questo è un feed Atom: un lettore di notizie lo consulta e vi trova i nuovi articoli. Per seguire l’archivio, copia questo indirizzo nel tuo lettore di feed:</xsl:when>
    <xsl:when test="$what = 'about' and $ui = 'fr'">Ceci est un flux Atom : un lecteur de flux le consulte et y trouve les nouveaux articles. Pour suivre l’archive, copiez cette adresse dans votre lecteur de flux :</xsl:when>
    <xsl:when test="$what = 'about' and $ui = 'de'">Dies ist ein Atom-Feed: Ein Feedreader ruft ihn ab und findet darin die neuen Artikel. Um dem Archiv zu folgen, kopieren Sie diese Adresse in Ihren Feedreader:</xsl:when>
    <xsl:when test="$what = 'about' and $ui = 'es'">Esto es un canal Atom: un lector de noticias lo consulta y encuentra en él los artículos nuevos. Para seguir el archivo, copia esta dirección en tu lector de canales:</xsl:when>
    <xsl:when test="$what = 'about'">This is an Atom feed: a news reader checks it and finds the new articles in it. To follow the archive, copy this address into your feed reader:</xsl:when>
    <xsl:when test="$ui = 'it'">Leggi questi articoli sul sito</xsl:when>
    <xsl:when test="$ui = 'fr'">Lire ces articles sur le site</xsl:when>
    <xsl:when test="$ui = 'de'">Diese Artikel auf der Website lesen</xsl:when>
    <xsl:when test="$ui = 'es'">Leer estos artículos en el sitio</xsl:when>
    <xsl:otherwise>Read these articles on the site</xsl:otherwise>
  </xsl:choose>
</xsl:template>

</xsl:stylesheet>
