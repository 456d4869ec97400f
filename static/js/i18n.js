// English and Russian strings, t(key), and the language switch (remembered in localStorage).
//
// Markup opts in with attributes, so templates stay readable and carry the English fallback:
//   data-i18n="key"              -> textContent
//   data-i18n-html="key"         -> innerHTML (only for our own strings with <b>, <code>)
//   data-i18n-title / -placeholder / -aria-label="key" -> that attribute
// Pages add their own strings with extend({en: {...}, ru: {...}}) or in their section below.
// A touch screen has no hover: there a key's "<key>.touch" variant, when it exists, replaces it
// ("Hover the map" becomes "Tap or drag on the map"), in markup and in t() alike.

const STORAGE_KEY = "svertka.lang";
export const LANGS = ["en", "ru"];

const EN = {
  // ---- common: header, footer, shared words ----
  "brand.tag": "convolution, step by step",
  "nav.skip": "Skip to content",
  "nav.playground": "Playground",
  "nav.step": "Step-through",
  "nav.network": "Layer stacks",
  "nav.digits": "Digits",
  "nav.pages": "Pages",
  "nav.menu": "Menu",
  "pg.settings": "Settings",
  "pg.more_ideas": "Why a convolution needs so few weights, and how dropout switches links off: on the step-through page",
  "theme.projector": "Projector",
  "theme.projector_hint": "Large type and high contrast for a classroom projector",
  "footer.text": "Every number is computed on the server with NumPy; the API is documented at",
  "common.loading": "Loading…",
  "common.error": "Something went wrong",
  "common.retry": "Try again",
  "common.offline": "The server did not answer. Check that it is running, then try again.",
  "common.none": "none",
  "common.on": "on",
  "common.off": "off",
  "common.axis": "axis",
  "common.rows": "rows",
  "common.cols": "columns",
  "common.height": "height",
  "common.width": "width",

  // ---- playground ----
  "pg.title": "Playground: kernels on photos",
  "pg.lead": "Every pixel of the feature map is a weighted sum of a small window of the input. Hover the map to see the sum.",
  "pg.image": "Image",
  "pg.image.caption": "A photo is just a grid of numbers from 0 (dark) to 255 (bright), one grid per colour channel.",
  "pg.samples": "Sample photos",
  "pg.upload": "Upload a photo",
  "pg.upload.hint": "or drop a file here, or paste with Ctrl+V",
  "pg.upload.busy": "Uploading…",
  "pg.original": "Original {w}×{h}",
  "pg.shown_at": "computed on {h} rows × {w} columns",
  "pg.input.padded_note": "the dashed line marks the real image, outside it is the padding",
  "pg.resolution": "Working size",
  "pg.resolution.caption": "Small sizes make single pixels visible; large ones show what the filter does to a real photo.",
  "pg.kernel": "Kernel",
  "pg.kernel.caption": "The kernel is the small table of weights that slides over the image. The network learns these numbers; here you set them.",
  "pg.preset": "Preset",
  "pg.custom.badge": "custom: edited by you",
  "pg.based_on": "Started from this preset: {desc}",
  "pg.kernel.size": "Size",
  "pg.normalise": "Normalise",
  "pg.normalise.hint": "Divide every weight by their sum, so a flat area keeps its brightness",
  "pg.normalise.zero": "The weights sum to 0, so there is nothing to divide by (edge detectors are meant to sum to 0)",
  "pg.reset": "Reset",
  "pg.reset.hint": "Back to the chosen preset",
  "pg.flip": "Flip (true convolution)",
  "pg.flip.caption": "Deep-learning libraries slide the kernel as it is (cross-correlation). Mathematical convolution turns it by 180° first; for symmetric kernels nothing changes.",
  "pg.kernel.sum": "sum of weights: {sum}",
  "pg.channels": "Channels",
  "pg.channels.caption": "A colour photo has three channels. A filter has one kernel slice per channel; the three partial results are added, then the bias.",
  "pg.color.gray": "Grey",
  "pg.color.rgb": "RGB",
  "pg.color.gray_hint": "One channel: the brightness of each pixel",
  "pg.color.rgb_hint": "Three channels: red, green and blue",
  "pg.kmode.shared": "One kernel for all channels",
  "pg.kmode.per": "A kernel per channel",
  "pg.kmode.depthwise": "Keep colours (one filter per channel)",
  "pg.kmode.depthwise.caption": "groups = 3: each channel gets its own filter and is not summed with the others, so the result stays in colour.",
  "pg.kmode.shared.caption": "The three channel results are added into one map, which is why it has no colour. To filter the photo in colour, pick “Keep colours”.",
  "pg.kmode.per.caption": "Use the R, G and B tabs to give each channel its own weights, e.g. −1 for red and +1 for blue finds where red turns into blue.",
  "pg.copy_to_all": "Copy to all channels",
  "pg.bias": "Bias",
  "pg.bias.caption": "A constant added after the sum; it shifts the whole map brighter or darker.",
  "pg.channel.R": "Red",
  "pg.channel.G": "Green",
  "pg.channel.B": "Blue",
  "pg.strip.title": "Three channels, one filter",
  "pg.strip.caption": "Each channel is convolved with its own slice of the kernel. The feature map is their sum plus the bias.",
  "pg.strip.sum": "sum + bias",
  "pg.techniques": "Techniques",
  "pg.padding": "Padding",
  "pg.padding.caption": "Padding adds a frame of extra pixels around the image, so the kernel can also centre on the edge pixels and the map does not shrink.",
  "pg.padding.valid": "valid (no padding)",
  "pg.padding.same": "same (keep the size)",
  "pg.padding.full": "full (every overlap)",
  "pg.padding.number": "number of pixels",
  "pg.padding.amount": "Pixels on each side",
  "pg.padding_mode": "Fill the frame with",
  "pg.padding_mode.zeros": "zeros",
  "pg.padding_mode.reflect": "mirror (reflect)",
  "pg.padding_mode.replicate": "edge pixel (replicate)",
  "pg.padding_mode.circular": "wrap around (circular)",
  "pg.stride": "Stride",
  "pg.stride.caption": "Stride is how far the window jumps each step. Stride 2 skips every other position and halves each side of the map.",
  "pg.dilation": "Dilation",
  "pg.dilation.caption": "Dilation spreads the kernel taps apart: the window sees a wider area with the same number of weights.",
  "pg.activation": "Activation",
  "pg.activation.caption": "A non-linear function applied to every value of the map. ReLU keeps positive responses and sets the rest to zero.",
  "pg.act.identity": "none (identity)",
  "pg.act.relu": "ReLU",
  "pg.act.leaky_relu": "Leaky ReLU",
  "pg.act.sigmoid": "sigmoid",
  "pg.act.tanh": "tanh",
  "pg.pooling": "Pooling",
  "pg.pooling.caption": "Pooling shrinks the map: each window of values is replaced by its maximum or its mean. It has no weights to learn.",
  "pg.pool.none": "none",
  "pg.pool.max": "max",
  "pg.pool.avg": "average",
  "pg.pool.size": "Window",
  "pg.pool.stride": "Step",
  "pg.pool.padding": "Padding",
  "pg.pool.padding.hint": "Extra cells around the map, at most half the window: max pooling ignores them, average pooling counts them as zeros",
  "pg.axes.hint": "One number acts on both axes; two numbers, such as 2, 1, set rows and columns apart.",
  "pg.act.slope": "Slope for negatives",
  "pg.story.stride_axes": "; the window steps by {sh} vertically and by {sw} horizontally",
  "pg.input": "Input",
  "pg.output": "Feature map",
  "pg.display": "Display",
  "pg.output.empty": "No feature map for this setting yet: the explanation below says why.",
  "pg.display.clip": "clip to 0…255",
  "pg.display.stretch": "stretch min…max",
  "pg.display.abs": "absolute value",
  "pg.display.signed": "signed colours",
  "pg.display.caption.clip": "Values are shown as they are: below 0 is black, above 255 is white.",
  "pg.display.caption.stretch": "The smallest value is black and the largest is white.",
  "pg.display.caption.abs": "Only the size of a response counts: 0 is black, the largest |value| is white.",
  "pg.display.caption.signed": "Negative values are purple, zero is nearly white, positive values are orange; equal shades mean equal size.",
  "pg.legend": "values from {min} to {max}",
  "pg.legend.data": "This map's values run from {min} to {max}.",
  "pg.shape": "Output shape",
  "pg.shape.formula": "out = ⌊(n + before + after − d·(k − 1) − 1) / s⌋ + 1",
  "pg.shape.conv": "convolution",
  "pg.story.window": "Each output pixel is computed from a {kh}×{kw} window of the input",
  "pg.story.dilated": ", its taps spread over {sh}×{sw} pixels (dilation {d})",
  "pg.story.stride1": "; the window moves one pixel at a time",
  "pg.story.stride": "; the window jumps {s} pixels at a time, so along each side it lands on only one position in {s}",
  "pg.story.pad_none": ", and it must stay inside the image, so the edges are lost",
  "pg.story.pad_even": ", over the image framed by {p} px of padding",
  "pg.story.pad": ", over the padded image of {hp}×{wp}",
  "pg.story.result": ". The {h}×{w} input (rows × columns) gives a {ho}×{wo} map",
  "pg.story.pool": "; {mode} pooling over {k}×{k} windows, step {ps}, shrinks it to {hq}×{wq}",
  "pg.shape.pool": "pooling",
  "pg.invalid": "This setting cannot work",
  "pg.why.empty": "Along the {axis} the kernel's window spans {window} pixels ({k} taps, dilation {d}), but the padded image is only {padded} pixels: the window never fits, so the map would be empty.",
  "pg.why.pool_empty": "Along the {axis} the pooling window spans {window} values, but the feature map it pools is only {padded} long: there is nothing to pool.",
  "pg.why.padding": "Mirroring and wrapping copy pixels from inside the image, so that frame cannot be wider than the image side minus one.",
  "pg.why.param": "The value of “{name}” is out of range.",
  "pg.why.limit": "This request would cost more than the server allows; a smaller working size helps.",
  "pg.server_says": "Server:",
  "pg.server_detail": "The server's own words (in English)",
  "pg.fix": "Use the nearest valid setting: {setting}",
  "pg.math": "Under the cursor",
  "pg.math.empty": "Hover or tap a pixel of the feature map to see how it was computed. Arrow keys move the window.",
  "pg.math.position": "Output pixel (row {r}, column {c})",
  "pg.math.window": "Input window",
  "pg.math.kernel": "Kernel",
  "pg.math.kernel_flipped": "Kernel, flipped",
  "pg.math.products": "Products",
  "pg.math.sum": "Sum",
  "pg.math.channel_sum": "channel sum",
  "pg.math.bias": "bias",
  "pg.math.value": "value",
  "pg.math.after_act": "after {act}",
  "pg.math.result": "result",
  "pg.math.padded": "padding",
  "pg.math.pool": "Pooling window ({mode}) over the convolution outputs",
  "pg.math.pool_pick": "{mode} over the window ({n} cells)",
  "pg.math.detail_for": "Convolution at row {r}, column {c}",
  "pg.math.pin_hint": "Click to pin, arrows to move, Esc to release; key M jumps to the map, P switches the projector view.",
  "pg.math.pin_hint.touch": "Tap the map, or drag a finger over it, to move the window.",
  "pg.lead.touch": "Every pixel of the feature map is a weighted sum of a small window of the input. Tap the map to see the sum.",
  "pg.math.empty.touch": "Tap a pixel of the feature map, or drag a finger over it, to see how it was computed.",
  "pg.error.upload": "This file could not be used as an image",
  "pg.error.samples": "The kernels and sample photos could not be loaded",
  "pg.no_image": "Upload a photo (or drop or paste one) to start.",
  "pg.share": "Copy link",
  "pg.share.done": "Link copied",

  // ---- step-through animator (the step page adds its strings here) ----
};

const RU = {
  // ---- common ----
  "brand.tag": "свёртка по шагам",
  "nav.skip": "К содержимому",
  "nav.playground": "Песочница",
  "nav.step": "По шагам",
  "nav.network": "Стек слоёв",
  "nav.digits": "Цифры",
  "nav.pages": "Разделы",
  "nav.menu": "Меню",
  "pg.settings": "Настройки",
  "pg.more_ideas": "Почему свёртке хватает так мало весов и как dropout обрывает связи — на странице «По шагам»",
  "theme.projector": "Проектор",
  "theme.projector_hint": "Крупный шрифт и высокий контраст для проектора в аудитории",
  "footer.text": "Все числа считает сервер на NumPy; описание API —",
  "common.loading": "Загрузка…",
  "common.error": "Что-то пошло не так",
  "common.retry": "Повторить",
  "common.offline": "Сервер не ответил. Проверьте, что он запущен, и попробуйте ещё раз.",
  "common.none": "нет",
  "common.on": "вкл.",
  "common.off": "выкл.",
  "common.axis": "ось",
  "common.rows": "строк",
  "common.cols": "столбцов",
  "common.height": "высота",
  "common.width": "ширина",

  // ---- playground ----
  "pg.title": "Песочница: ядра на фотографиях",
  "pg.lead": "Каждый пиксель карты признаков — взвешенная сумма небольшого окна входа. Наведите курсор на карту, чтобы увидеть эту сумму.",
  "pg.image": "Изображение",
  "pg.image.caption": "Фотография — это просто таблица чисел от 0 (темно) до 255 (светло), по таблице на каждый цветовой канал.",
  "pg.samples": "Примеры фото",
  "pg.upload": "Загрузить фото",
  "pg.upload.hint": "или перетащите файл сюда, или вставьте через Ctrl+V",
  "pg.upload.busy": "Загружаем…",
  "pg.original": "Оригинал {w}×{h}",
  "pg.shown_at": "считаем на {h} строках × {w} столбцах",
  "pg.input.padded_note": "пунктир — граница настоящего изображения, снаружи набивка",
  "pg.resolution": "Рабочий размер",
  "pg.resolution.caption": "На маленьком размере видны отдельные пиксели, на большом — что фильтр делает с настоящим фото.",
  "pg.kernel": "Ядро",
  "pg.kernel.caption": "Ядро — маленькая таблица весов, которая скользит по изображению. Сеть подбирает эти числа при обучении, а здесь их задаёте вы.",
  "pg.preset": "Готовое ядро",
  "pg.custom.badge": "своё: изменено вами",
  "pg.based_on": "Начато с этого ядра: {desc}",
  "pg.kernel.size": "Размер",
  "pg.normalise": "Нормировать",
  "pg.normalise.hint": "Разделить все веса на их сумму, чтобы однородная область сохранила яркость",
  "pg.normalise.zero": "Сумма весов равна 0, делить не на что (у детекторов границ так и задумано)",
  "pg.reset": "Сбросить",
  "pg.reset.hint": "Вернуть выбранное готовое ядро",
  "pg.flip": "Отразить (настоящая свёртка)",
  "pg.flip.caption": "Библиотеки глубокого обучения прикладывают ядро как есть (взаимная корреляция). Математическая свёртка сначала поворачивает его на 180°; симметричным ядрам это безразлично.",
  "pg.kernel.sum": "сумма весов: {sum}",
  "pg.channels": "Каналы",
  "pg.channels.caption": "У цветного фото три канала. У фильтра свой срез ядра для каждого канала; три частичных результата складываются, затем прибавляется смещение.",
  "pg.color.gray": "Серое",
  "pg.color.rgb": "RGB",
  "pg.color.gray_hint": "Один канал: яркость каждого пикселя",
  "pg.color.rgb_hint": "Три канала: красный, зелёный и синий",
  "pg.kmode.shared": "Одно ядро на все каналы",
  "pg.kmode.per": "Своё ядро для каждого канала",
  "pg.kmode.depthwise": "Сохранить цвет (фильтр на каждый канал)",
  "pg.kmode.depthwise.caption": "groups = 3: у каждого канала свой фильтр, и каналы не складываются, поэтому результат остаётся цветным.",
  "pg.kmode.shared.caption": "Результаты трёх каналов складываются в одну карту, поэтому она бесцветная. Чтобы отфильтровать фото в цвете, выберите «Сохранить цвет».",
  "pg.kmode.per.caption": "На вкладках R, G и B у каждого канала свои веса: например, −1 для красного и +1 для синего находят места, где красный переходит в синий.",
  "pg.copy_to_all": "Копировать во все каналы",
  "pg.bias": "Смещение",
  "pg.bias.caption": "Константа, которую прибавляют после суммы; она делает всю карту светлее или темнее.",
  "pg.channel.R": "Красный",
  "pg.channel.G": "Зелёный",
  "pg.channel.B": "Синий",
  "pg.strip.title": "Три канала — один фильтр",
  "pg.strip.caption": "Каждый канал сворачивается со своим срезом ядра. Карта признаков — их сумма плюс смещение.",
  "pg.strip.sum": "сумма + смещение",
  "pg.techniques": "Техники",
  "pg.padding": "Набивка (padding)",
  "pg.padding.caption": "Набивка добавляет рамку из лишних пикселей вокруг изображения: ядро может встать центром и на крайние пиксели, и карта не уменьшается.",
  "pg.padding.valid": "valid (без набивки)",
  "pg.padding.same": "same (сохранить размер)",
  "pg.padding.full": "full (все перекрытия)",
  "pg.padding.number": "число пикселей",
  "pg.padding.amount": "Пикселей с каждой стороны",
  "pg.padding_mode": "Чем заполнить рамку",
  "pg.padding_mode.zeros": "нулями",
  "pg.padding_mode.reflect": "зеркально (reflect)",
  "pg.padding_mode.replicate": "крайним пикселем (replicate)",
  "pg.padding_mode.circular": "с другого края (circular)",
  "pg.stride": "Сдвиг (stride)",
  "pg.stride.caption": "Сдвиг — на сколько пикселей прыгает окно за шаг. При сдвиге 2 каждая вторая позиция пропускается, и стороны карты вдвое короче.",
  "pg.dilation": "Разрежение (dilation)",
  "pg.dilation.caption": "Разрежение раздвигает точки ядра: окно охватывает большую область тем же числом весов.",
  "pg.activation": "Активация",
  "pg.activation.caption": "Нелинейная функция, применяемая к каждому значению карты. ReLU оставляет положительные отклики, а остальные обнуляет.",
  "pg.act.identity": "нет (тождественная)",
  "pg.act.relu": "ReLU",
  "pg.act.leaky_relu": "Leaky ReLU",
  "pg.act.sigmoid": "сигмоида",
  "pg.act.tanh": "tanh",
  "pg.pooling": "Пулинг",
  "pg.pooling.caption": "Пулинг уменьшает карту: каждое окно значений заменяется их максимумом или средним. Обучаемых весов у него нет.",
  "pg.pool.none": "нет",
  "pg.pool.max": "максимум",
  "pg.pool.avg": "среднее",
  "pg.pool.size": "Окно",
  "pg.pool.stride": "Шаг",
  "pg.pool.padding": "Набивка",
  "pg.pool.padding.hint": "Лишние клетки вокруг карты, не больше половины окна: max-пулинг их не учитывает, средний считает нулями",
  "pg.axes.hint": "Одно число действует на обе оси; два числа, например 2, 1, задают строки и столбцы по отдельности.",
  "pg.act.slope": "Наклон для отрицательных",
  "pg.story.stride_axes": "; окно шагает на {sh} по вертикали и на {sw} по горизонтали",
  "pg.input": "Вход",
  "pg.output": "Карта признаков",
  "pg.display": "Показ",
  "pg.output.empty": "Для этой настройки карты пока нет: ниже объяснено почему.",
  "pg.display.clip": "обрезать до 0…255",
  "pg.display.stretch": "растянуть min…max",
  "pg.display.abs": "модуль значения",
  "pg.display.signed": "цвет по знаку",
  "pg.display.caption.clip": "Значения как есть: меньше 0 — чёрный, больше 255 — белый.",
  "pg.display.caption.stretch": "Наименьшее значение — чёрное, наибольшее — белое.",
  "pg.display.caption.abs": "Важна только сила отклика: 0 — чёрный, наибольший модуль — белый.",
  "pg.display.caption.signed": "Отрицательные значения фиолетовые, ноль почти белый, положительные оранжевые; одинаковый оттенок — одинаковая величина.",
  "pg.legend": "значения от {min} до {max}",
  "pg.legend.data": "Значения этой карты — от {min} до {max}.",
  "pg.shape": "Размер выхода",
  "pg.shape.formula": "out = ⌊(n + до + после − d·(k − 1) − 1) / s⌋ + 1",
  "pg.shape.conv": "свёртка",
  "pg.story.window": "Каждый пиксель выхода считается по окну входа {kh}×{kw}",
  "pg.story.dilated": ", точки которого разнесены на {sh}×{sw} пикс. (разрежение {d})",
  "pg.story.stride1": "; окно сдвигается на один пиксель",
  "pg.story.stride": "; окно прыгает на {s} пикс., поэтому по каждой стороне считается лишь одна позиция из {s}",
  "pg.story.pad_none": ", и оно не выходит за изображение, поэтому края теряются",
  "pg.story.pad_even": ", по изображению в рамке набивки шириной {p} пикс.",
  "pg.story.pad": ", по изображению с набивкой размером {hp}×{wp}",
  "pg.story.result": ". Из входа {h}×{w} (строки × столбцы) получается карта {ho}×{wo}",
  "pg.story.pool": "; пулинг ({mode}) окнами {k}×{k} с шагом {ps} уменьшает её до {hq}×{wq}",
  "pg.shape.pool": "пулинг",
  "pg.invalid": "Так не получится",
  "pg.why.empty": "По оси «{axis}» окно ядра охватывает {window} пикс. (ядро: {k}, разрежение: {d}), а изображение с набивкой — только {padded} пикс.: окно нигде не помещается, и карта была бы пустой.",
  "pg.why.pool_empty": "По оси «{axis}» окно пулинга шириной {window}, а карта признаков — только {padded}: пулингу не из чего выбирать.",
  "pg.why.padding": "Зеркальная и циклическая набивка копируют пиксели изнутри изображения, поэтому рамка не может быть шире стороны изображения минус один.",
  "pg.why.param": "Значение «{name}» вне допустимых пределов.",
  "pg.why.limit": "Такой запрос дороже, чем позволяет сервер; помогает меньший рабочий размер.",
  "pg.server_says": "Сервер:",
  "pg.server_detail": "Что именно ответил сервер (по-английски)",
  "pg.fix": "Взять ближайшую верную настройку: {setting}",
  "pg.math": "Под курсором",
  "pg.math.empty": "Наведите курсор на пиксель карты признаков или коснитесь его, чтобы увидеть, как он посчитан. Стрелки двигают окно.",
  "pg.math.position": "Пиксель выхода (строка {r}, столбец {c})",
  "pg.math.window": "Окно входа",
  "pg.math.kernel": "Ядро",
  "pg.math.kernel_flipped": "Ядро, отражённое",
  "pg.math.products": "Произведения",
  "pg.math.sum": "Сумма",
  "pg.math.channel_sum": "сумма канала",
  "pg.math.bias": "смещение",
  "pg.math.value": "значение",
  "pg.math.after_act": "после {act}",
  "pg.math.result": "результат",
  "pg.math.padded": "набивка",
  "pg.math.pool": "Окно пулинга ({mode}) по выходам свёртки",
  "pg.math.pool_pick": "{mode} по окну (клеток: {n})",
  "pg.math.detail_for": "Свёртка в строке {r}, столбце {c}",
  "pg.math.pin_hint": "Щелчок закрепляет, стрелки двигают, Esc отпускает; клавиша M переходит к карте, P включает вид для проектора.",
  "pg.math.pin_hint.touch": "Коснитесь карты или проведите по ней пальцем, чтобы сдвинуть окно.",
  "pg.lead.touch": "Каждый пиксель карты признаков — взвешенная сумма небольшого окна входа. Коснитесь карты, чтобы увидеть эту сумму.",
  "pg.math.empty.touch": "Коснитесь пикселя карты признаков или проведите по карте пальцем, чтобы увидеть, как он посчитан.",
  "pg.error.upload": "Этот файл не удалось открыть как изображение",
  "pg.error.samples": "Не удалось загрузить ядра и примеры фото",
  "pg.no_image": "Загрузите фото (или перетащите, или вставьте его), чтобы начать.",
  "pg.share": "Скопировать ссылку",
  "pg.share.done": "Ссылка скопирована",

  // ---- step-through animator (the step page adds its strings here) ----
};

const DICT = { en: EN, ru: RU };

/** Add strings (e.g. a page's own section) without editing this file. */
export function extend(strings) {
  for (const lang of LANGS) Object.assign(DICT[lang], strings[lang] || {});
}

/** Keys one language has and the other lacks (a test keeps both lists empty). */
export function missingKeys() {
  const keys = (lang) => new Set(Object.keys(DICT[lang]));
  const [en, ru] = [keys("en"), keys("ru")];
  return { en: [...ru].filter((k) => !en.has(k)), ru: [...en].filter((k) => !ru.has(k)) };
}

function readStored() {
  try {
    const v = localStorage.getItem(STORAGE_KEY);
    if (LANGS.includes(v)) return v;
  } catch { /* storage blocked: fall through */ }
  return null;
}

function guess() {
  const nav = (navigator.language || "en").toLowerCase();
  return nav.startsWith("ru") ? "ru" : "en";
}

let current = readStored() || guess();
const TOUCH = typeof matchMedia === "function" && matchMedia("(hover: none)").matches;

export function getLang() {
  return current;
}

/** Translate `key`, filling {name} placeholders from `params`; English, then the key, as fallback. */
export function t(key, params) {
  if (TOUCH && (DICT[current][`${key}.touch`] ?? EN[`${key}.touch`]) !== undefined) key = `${key}.touch`;
  let s = DICT[current][key];
  if (s === undefined) s = EN[key];
  if (s === undefined) return key;
  if (params) s = s.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
  return s;
}

/** Format a number the way the current language writes it (decimal comma in Russian). */
export function fmt(value, digits = 2) {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  if (!Number.isFinite(value)) return value > 0 ? "∞" : "−∞";
  // "+ 0" turns −0 (a negative weight times a zero pixel, or a tiny negative rounded) into 0.
  const rounded = Math.round(value * 10 ** digits) / 10 ** digits + 0;
  const s = rounded.toLocaleString(current === "ru" ? "ru-RU" : "en-US", {
    maximumFractionDigits: digits, useGrouping: false,
  });
  return s.replace("-", "−");
}

/** Apply the dictionary to every opted-in element under `root`. */
export function applyI18n(root = document) {
  root.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
  root.querySelectorAll("[data-i18n-html]").forEach((el) => { el.innerHTML = t(el.dataset.i18nHtml); });
  for (const attr of ["title", "placeholder", "aria-label"]) {
    const data = "i18n" + attr.replace(/(^|-)(\w)/g, (m, d, c) => c.toUpperCase());
    root.querySelectorAll(`[data-i18n-${attr}]`).forEach((el) => {
      el.setAttribute(attr, t(el.dataset[data]));
    });
  }
}

/** Switch language, remember it, re-label the page and tell views with a "langchange" event. */
export function setLang(lang) {
  if (!LANGS.includes(lang)) return;
  current = lang;
  try { localStorage.setItem(STORAGE_KEY, lang); } catch { /* not remembered, still switched */ }
  document.documentElement.lang = lang;
  applyI18n();
  syncSwitch();
  document.dispatchEvent(new CustomEvent("langchange", { detail: { lang } }));
}

function syncSwitch() {
  document.querySelectorAll("[data-lang]").forEach((b) => {
    b.setAttribute("aria-pressed", String(b.dataset.lang === current));
  });
}

/** Wire the header switch; called once by base.html. */
export function initI18n() {
  document.documentElement.lang = current;
  applyI18n();
  syncSwitch();
  document.querySelectorAll("[data-lang]").forEach((b) => {
    b.addEventListener("click", () => setLang(b.dataset.lang));
  });
}
