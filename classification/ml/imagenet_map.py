"""ImageNet-1k classes mapped onto Vitrine's default product taxonomy.

Before any training, the pretrained backbone's ImageNet softmax is summed per
taxonomy slug (see ``classification.ml.efficientnet``). Only classes that are plausibly
a product photo are mapped. Animals, people, scenes, buildings, large or commercial
vehicles, weapons, packaging (carton, packet, plastic bag) and natural objects stay
unmapped, so the probability they take is what tells "not clearly a product".

Where one class could go to two slugs, it goes where a shop photo that the network
puts in that class most likely belongs: "analog clock" is where wristwatches land,
since ImageNet has no wristwatch class, so it counts as a watch here and "wall
clock" as home decor.
Drinks served in a glass or cup (espresso, red wine, eggnog) are drinkware shots;
bottled drinks are groceries.

The file is long because the table is: it stays whole so that the mapping reads
in one place.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

NUM_IMAGENET_CLASSES = 1000

# Slug -> ImageNet-1k class indices (torchvision's order), one class per line.
TAXONOMY_IMAGENET_CLASSES: dict[str, tuple[int, ...]] = {
    "apparel": (
        399,  # abaya
        400,  # academic gown
        411,  # apron
        433,  # bathing cap
        445,  # bikini
        451,  # bolo tie
        452,  # bonnet (hat)
        457,  # bow tie
        459,  # brassiere
        461,  # breastplate (costume and armour-look tops)
        464,  # buckle (belt)
        465,  # bulletproof vest (the top class of vests and tank tops)
        474,  # cardigan
        490,  # chain mail (knitted and metallic-look tops)
        501,  # cloak
        515,  # cowboy hat
        524,  # cuirass (as the breastplate)
        552,  # feather boa
        568,  # fur coat
        578,  # gown
        591,  # handkerchief
        601,  # hoopskirt
        608,  # jean (blue jeans)
        610,  # jersey (T-shirt)
        614,  # kimono
        617,  # lab coat
        638,  # maillot (leotard)
        639,  # maillot (swimsuit)
        652,  # military uniform (jackets and uniforms)
        655,  # miniskirt
        658,  # mitten
        667,  # mortarboard
        689,  # overskirt
        697,  # pajama
        735,  # poncho
        775,  # sarong
        796,  # ski mask
        806,  # sock
        808,  # sombrero
        824,  # stole (scarf)
        834,  # suit
        841,  # sweatshirt
        842,  # swimming trunks
        869,  # trench coat
        885,  # velvet (velvet garments)
        887,  # vestment (robes, long coats)
        906,  # Windsor tie
        911,  # wool (knitwear and yarn)
    ),
    "footwear": (
        502,  # clog
        514,  # cowboy boot
        630,  # Loafer
        770,  # running shoe
        774,  # sandal
    ),
    "bags-luggage": (
        414,  # backpack
        636,  # mailbag (messenger bag)
        748,  # purse
        879,  # umbrella
        893,  # wallet
    ),
    "watches-jewelry": (
        409,  # analog clock: ImageNet has no wristwatch class; watches land here
        531,  # digital watch
        679,  # necklace
        826,  # stopwatch
    ),
    "eyewear": (
        836,  # sunglass
        837,  # sunglasses
    ),
    "kitchen-drinkware": (
        441,  # beer glass
        469,  # caldron
        473,  # can opener
        499,  # cleaver
        503,  # cocktail shaker
        504,  # coffee mug
        505,  # coffeepot
        512,  # corkscrew
        521,  # Crock Pot
        533,  # dishrag
        534,  # dishwasher
        544,  # Dutch oven
        550,  # espresso maker
        567,  # frying pan
        572,  # goblet
        618,  # ladle
        647,  # measuring cup
        651,  # microwave
        659,  # mixing bowl
        666,  # mortar (and pestle)
        700,  # paper towel
        725,  # pitcher
        729,  # plate rack
        760,  # refrigerator
        766,  # rotisserie
        773,  # saltshaker
        809,  # soup bowl
        813,  # spatula
        827,  # stove
        828,  # strainer
        849,  # teapot
        859,  # toaster
        868,  # tray
        891,  # waffle iron
        898,  # water bottle
        899,  # water jug
        901,  # whiskey jug
        909,  # wok
        910,  # wooden spoon
        923,  # plate (of food; mostly tableware shots)
        966,  # red wine (a glass of it)
        967,  # espresso
        968,  # cup
        969,  # eggnog (a glass of it)
    ),
    "electronics": (
        447,  # binoculars
        481,  # cassette
        482,  # cassette player
        485,  # CD player
        487,  # cellular telephone
        508,  # computer keyboard
        527,  # desktop computer
        528,  # dial telephone
        530,  # digital clock
        590,  # hand-held computer
        592,  # hard disc
        598,  # home theater
        605,  # iPod
        613,  # joystick
        620,  # laptop
        622,  # lens cap
        632,  # loudspeaker
        650,  # microphone
        662,  # modem
        664,  # monitor
        673,  # mouse
        681,  # notebook (computer)
        688,  # oscilloscope
        713,  # photocopier
        732,  # Polaroid camera
        742,  # printer
        745,  # projector
        754,  # radio
        759,  # reflex camera
        761,  # remote control
        782,  # screen (computer)
        810,  # space bar (keyboard)
        848,  # tape player
        851,  # television
        872,  # tripod
    ),
    "home-furniture": (
        412,  # ashcan (bin)
        423,  # barber chair
        434,  # bath towel
        435,  # bathtub
        453,  # bookcase
        462,  # broom
        463,  # bucket
        470,  # candle
        492,  # chest (furniture)
        493,  # chiffonier (dresser)
        495,  # china cabinet
        496,  # Christmas stocking
        526,  # desk
        532,  # dining table
        539,  # doormat
        545,  # electric fan
        548,  # entertainment center
        556,  # fire screen
        559,  # folding chair
        564,  # four-poster
        588,  # hamper (basket)
        604,  # hourglass
        606,  # iron (clothes)
        619,  # lampshade
        648,  # medicine chest
        669,  # mosquito net
        721,  # pillow
        741,  # prayer rug
        750,  # quilt
        753,  # radiator
        765,  # rocking chair
        786,  # sewing machine
        789,  # shoji (screen)
        794,  # shower curtain
        804,  # soap dispenser
        811,  # space heater
        818,  # spotlight (lamp)
        831,  # studio couch
        840,  # swab (mop)
        846,  # table lamp
        861,  # toilet seat
        882,  # vacuum
        883,  # vase
        892,  # wall clock
        894,  # wardrobe
        896,  # washbasin
        897,  # washer (washing machine)
        904,  # window screen
        905,  # window shade
        999,  # toilet tissue
    ),
    "toys-games": (
        398,  # abacus
        417,  # balloon
        611,  # jigsaw puzzle
        643,  # mask (costume)
        719,  # piggy bank
        723,  # pinwheel
        850,  # teddy (bear)
    ),
    "sports-outdoors": (
        422,  # barbell
        429,  # baseball
        430,  # basketball
        444,  # bicycle-built-for-two
        456,  # bow (archery)
        472,  # canoe
        518,  # crash helmet
        522,  # croquet ball
        543,  # dumbbell
        560,  # football helmet
        573,  # go-kart
        574,  # golf ball
        615,  # knee pad
        635,  # magnetic compass
        671,  # mountain bike
        672,  # mountain tent
        693,  # paddle
        722,  # ping-pong ball
        736,  # pool table
        746,  # puck
        747,  # punching bag
        752,  # racket
        758,  # reel (fishing)
        768,  # rugby ball
        795,  # ski
        797,  # sleeping bag
        801,  # snorkel
        805,  # soccer ball
        852,  # tennis ball
        880,  # unicycle
        890,  # volleyball
        902,  # whistle
    ),
    "beauty-personal-care": (
        419,  # Band Aid
        523,  # crutch
        551,  # face powder
        584,  # hair slide (clip)
        585,  # hair spray
        589,  # hand blower (hair dryer)
        629,  # lipstick
        631,  # lotion
        678,  # neck brace
        691,  # oxygen mask
        711,  # perfume
        720,  # pill bottle
        793,  # shower cap
        823,  # stethoscope
        838,  # sunscreen
        845,  # syringe
        903,  # wig
    ),
    "tools-hardware": (
        426,  # barometer
        477,  # carpenter's kit
        488,  # chain
        491,  # chain saw
        507,  # combination lock
        570,  # gasmask
        587,  # hammer
        596,  # hatchet
        600,  # hook
        633,  # loupe
        674,  # mousetrap
        677,  # nail
        695,  # padlock
        726,  # plane (carpenter's)
        731,  # plunger
        740,  # power drill
        771,  # safe
        778,  # scale (weighing)
        783,  # screw
        784,  # screwdriver
        844,  # switch (electric)
    ),
    "books-office": (
        418,  # ballpoint
        446,  # binder
        549,  # envelope
        553,  # file (cabinet)
        563,  # fountain pen
        623,  # letter opener
        696,  # paintbrush
        709,  # pencil box
        710,  # pencil sharpener
        749,  # quill
        767,  # rubber eraser
        769,  # rule (ruler)
        772,  # safety pin
        798,  # slide rule
        855,  # thimble
        878,  # typewriter keyboard
        917,  # comic book
        918,  # crossword puzzle
        921,  # book jacket
    ),
    "musical-instruments": (
        401,  # accordion
        402,  # acoustic guitar
        420,  # banjo
        432,  # bassoon
        486,  # cello
        494,  # chime
        513,  # cornet
        541,  # drum
        542,  # drumstick
        546,  # electric guitar
        558,  # flute
        566,  # French horn
        577,  # gong
        579,  # grand piano
        593,  # harmonica
        594,  # harp
        641,  # maraca
        642,  # marimba
        683,  # oboe
        684,  # ocarina
        687,  # organ
        699,  # panpipe
        714,  # pick (plectrum)
        776,  # sax
        822,  # steel drum
        875,  # trombone
        881,  # upright (piano)
        889,  # violin
    ),
    "food-grocery": (
        440,  # beer bottle
        737,  # pop bottle
        907,  # wine bottle
        924,  # guacamole
        925,  # consomme
        926,  # hot pot
        927,  # trifle
        928,  # ice cream
        929,  # ice lolly
        930,  # French loaf
        931,  # bagel
        932,  # pretzel
        933,  # cheeseburger
        934,  # hotdog
        935,  # mashed potato
        936,  # head cabbage
        937,  # broccoli
        938,  # cauliflower
        939,  # zucchini
        940,  # spaghetti squash
        941,  # acorn squash
        942,  # butternut squash
        943,  # cucumber
        944,  # artichoke
        945,  # bell pepper
        946,  # cardoon
        947,  # mushroom (food)
        948,  # Granny Smith
        949,  # strawberry
        950,  # orange
        951,  # lemon
        952,  # fig
        953,  # pineapple
        954,  # banana
        955,  # jackfruit
        956,  # custard apple
        957,  # pomegranate
        959,  # carbonara
        960,  # chocolate sauce
        961,  # dough
        962,  # meat loaf
        963,  # pizza
        964,  # potpie
        965,  # burrito
        987,  # corn
        998,  # ear (of corn)
    ),
    "garden-outdoor": (
        428,  # barrow (wheelbarrow)
        448,  # birdhouse
        621,  # lawn mower
        637,  # mailbox
        703,  # park bench
        738,  # pot (flowerpot)
        756,  # rain barrel
        792,  # shovel
        835,  # sundial
        843,  # swing
    ),
    "automotive": (
        436,  # beach wagon (estate car)
        475,  # car mirror
        479,  # car wheel
        511,  # convertible
        535,  # disk brake
        575,  # golfcart
        581,  # grille (radiator)
        609,  # jeep
        627,  # limousine
        656,  # minivan
        661,  # Model T
        665,  # moped
        670,  # motor scooter
        685,  # odometer
        686,  # oil filter
        717,  # pickup
        751,  # racer
        757,  # recreational vehicle
        785,  # seat belt
        802,  # snowmobile
        817,  # sports car
    ),
    "baby-kids": (
        431,  # bassinet
        443,  # bib
        516,  # cradle
        520,  # crib
        529,  # diaper
        680,  # nipple (baby bottle)
        870,  # tricycle
    ),
    "pet-supplies": (
        676,  # muzzle (dog)
    ),
}


def imagenet_to_taxonomy_matrix(slugs: list[str]) -> torch.Tensor:
    """Return a (1000, len(slugs)) 0/1 matrix: row ImageNet class, column slug.

    Multiplying ImageNet probabilities by it sums them per slug. Raise ValueError
    for a repeated slug or one the map does not know.
    """
    # Imported here so that Django code can read the map without loading torch.
    import torch

    if len(set(slugs)) != len(slugs):
        raise ValueError(f"repeated slugs in {slugs}")
    if unknown := sorted(set(slugs) - TAXONOMY_IMAGENET_CLASSES.keys()):
        known = list(TAXONOMY_IMAGENET_CLASSES)
        raise ValueError(f"no ImageNet classes for {unknown}; known: {known}")
    matrix = torch.zeros(NUM_IMAGENET_CLASSES, len(slugs))
    for column, slug in enumerate(slugs):
        matrix[list(TAXONOMY_IMAGENET_CLASSES[slug]), column] = 1.0
    # A class counted under two slugs would make the slugs' probabilities sum past 1.
    assert (matrix.sum(dim=1) <= 1).all(), "an ImageNet class maps to two slugs"
    return matrix
