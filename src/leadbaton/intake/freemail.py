"""Mailbox providers anyone can sign up to: their domain says nothing about the person's company."""

FREE_MAIL_DOMAINS = frozenset(
    """
    aol.com gmail.com googlemail.com hotmail.com hotmail.co.uk hotmail.fr hotmail.de hotmail.it hotmail.es
    outlook.com outlook.de outlook.fr live.com live.co.uk live.fr live.de msn.com passport.com
    yahoo.com yahoo.co.uk yahoo.fr yahoo.de yahoo.it yahoo.es yahoo.ca yahoo.com.au yahoo.co.in yahoo.co.jp
    ymail.com rocketmail.com icloud.com me.com mac.com protonmail.com proton.me pm.me tutanota.com tuta.io
    gmx.com gmx.de gmx.net gmx.at gmx.ch web.de t-online.de freenet.de mail.com email.com zoho.com zohomail.com
    yandex.com yandex.ru ya.ru mail.ru bk.ru inbox.ru list.ru rambler.ru qq.com 163.com 126.com sina.com
    naver.com daum.net hanmail.net orange.fr wanadoo.fr free.fr laposte.net sfr.fr libero.it virgilio.it
    tiscali.it alice.it seznam.cz wp.pl o2.pl onet.pl interia.pl btinternet.com sky.com virginmedia.com
    ntlworld.com talktalk.net comcast.net verizon.net att.net sbcglobal.net bellsouth.net cox.net
    charter.net earthlink.net juno.com bigpond.com optusnet.com.au shaw.ca rogers.com sympatico.ca
    rediffmail.com hushmail.com fastmail.com fastmail.fm hey.com duck.com
    """.split()
)
