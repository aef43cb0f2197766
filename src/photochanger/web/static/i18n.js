// English and Russian texts; the language follows the browser and can be switched (saved locally).
const TEXTS = {
  en: {
    app: "PhotoChanger", dashboard: "Dashboard", jobs: "Jobs", settings: "Settings", stats: "Statistics",
    gallery: "Gallery", logout: "Log out", language: "Language", login: "Log in", username: "Username",
    password: "Password", wrong_login: "Wrong username or password.", throttled: "Too many attempts. Try again in {s} s.",
    ingest_url: "Ingest URL", copy: "Copy", copied: "Copied", show: "Show", hide: "Hide", ingest_password: "Ingest password",
    active: "Active", inactive: "Inactive", last_job: "Last job", success_today: "Success today", edit: "Edit",
    no_jobs: "No jobs yet", name: "Name", provider: "Provider", model: "Model", prompt: "Prompt",
    save: "Save", saved: "Saved", unsaved: "You have unsaved changes. Leave anyway?",
    conflict: "Someone else changed this slot. Reload to see their version.", fallbacks: "Fallback routes",
    add_fallback: "Add fallback", remove: "Remove", on_failure: "When every route fails",
    on_failure_error: "Answer with an error", on_failure_original: "Send back the original photo",
    upload_limit: "Upload limit (MB)", max_in_flight: "Photos in progress at once", templates: "Template images",
    drop_here: "Drop images here or choose files", role: "Role", test: "Test", test_photo: "Test photo",
    run_test: "Run test", running: "Working… {s} s", original: "Original", result: "Result", duration: "Duration",
    attempts: "Attempts", recent_results: "Recent results", open: "Open", download: "Download", rerun: "Run again",
    status: "Status", source: "Source", slot: "Slot", any: "Any", received: "Received", load_more: "Load more",
    details: "Details", client_fields: "Fields from the booth", headers: "Headers", last_requests: "Last booth requests",
    size: "Size", outcome: "Outcome", rotate: "Rotate", rotate_confirm: "Create a new ingest password? The booth must be updated.",
    deadline: "Answer deadline (s)", ttl: "Keep results (hours)", slot_limit: "Default per slot", provider_limit: "Per provider",
    concurrency: "Photos in progress", provider_keys: "Provider keys", configured: "configured", not_configured: "not set",
    new_key: "New key (leave empty to keep)", cleanup: "Delete expired media", cleanup_report: "Removed {files} files ({mb} MB) of {jobs} jobs.",
    window: "Window", total: "Total", done: "Done", failed: "Failed", timeouts: "Timeouts", success_rate: "Success rate",
    failures: "Failure reasons", jobs_over_time: "Jobs over time", p95_latency: "p95 latency (ms)", share_for: "Share for (minutes)",
    share: "Share", stop_sharing: "Stop sharing", shared_until: "Shared, {left} left", not_shared: "Not shared",
    public_link: "Public link", guest_gallery: "Photos of the event", gallery_closed: "The gallery is not shared right now.",
    your_photo: "Your photo", scan: "Scan to take the photo home", error: "Error", settings_hint: "Per-provider settings",
    look: "Colour look", overlay: "Frame overlay", background: "Replace background (keep people)", aspect_ratio: "Aspect ratio",
    image_size: "Image size", quality: "Quality", method: "Method", strength: "Strength", default: "default",
    no_results: "No results yet", camera: "Take a photo",
    hidden: "Hidden from guests", hide_photo: "Hide", show_photo: "Show", delete_photo: "Delete",
    confirm_delete_photo: "Delete this photo's files for good? Its links stop working.", photo_hidden: "Hidden from guests",
    photo_shown: "Visible to guests again", photo_deleted: "Photo deleted",
    photo_unavailable: "This photo is not available.", photo_expired: "This photo has expired and was deleted.",
    routes_failing: "A provider route is failing", state_open: "open (guests skip it)", state_half_open: "being re-checked",
    route_failed_recent: "{failed} of {total} attempts failed in the last 15 min.", last_failure: "Last failure", slots: "Slots",
    slot_degraded: "{route} of {total} photos in 15 min came from a fallback route, {original} were the original photo.",
    warm_up: "Warm up", warm_up_hint: "Sends one real photo through every active slot's routes. Run it before the doors open.",
    warming_up: "Sending a test photo through every route…", route: "Route", fallback: "Fallback", primary: "Primary",
    hedging: "Hedging", hedging_auto: "Auto (only towards the free local provider)", hedging_on: "On (may bill two providers)",
    hedging_off: "Off", hedging_hint: "When the primary is slower than usual, start the next route beside it and answer with whichever finishes first.",
    hedge_cost: "Last 24 h: {n} hedged attempts cancelled, estimated {usd} USD.", hedges: "Hedges",
    people_check: "People check", people_auto: "Auto (on for AI providers when available)", people_on: "On", people_off: "Off",
    people_hint: "Counts the faces in each AI answer; an answer that lost people is retried or replaced by the next route. It cannot tell whether they are the same people.",
    people_unavailable: "Needs the local-ai extra on the server (pip install 'photochanger[local-ai]').",
    people_tolerance: "Allowed difference in the number of faces", faces: "Faces",
    prompt_fields: "You can use what the booth sends: {fields}. A default: {name|our guest}. From the URL: {query.team}.",
    sample_fields: "Sample booth fields", sample_fields_hint: "One per line, e.g. name=Anna — used for the prompt's placeholders.",
    alerts: "Alerts", alert_webhook_url: "Alert webhook URL", alert_webhook_hint: "Receives a JSON POST when a provider route starts failing and when it recovers.",
  },
  ru: {
    app: "PhotoChanger", dashboard: "Слоты", jobs: "Задания", settings: "Настройки", stats: "Статистика",
    gallery: "Галерея", logout: "Выйти", language: "Язык", login: "Войти", username: "Логин",
    password: "Пароль", wrong_login: "Неверный логин или пароль.", throttled: "Слишком много попыток. Повторите через {s} с.",
    ingest_url: "Адрес для фотобудки", copy: "Копировать", copied: "Скопировано", show: "Показать", hide: "Скрыть",
    ingest_password: "Пароль фотобудки", active: "Включён", inactive: "Выключен", last_job: "Последнее задание",
    success_today: "Успешно сегодня", edit: "Изменить", no_jobs: "Заданий пока нет", name: "Название", provider: "Провайдер",
    model: "Модель", prompt: "Промпт", save: "Сохранить", saved: "Сохранено", unsaved: "Есть несохранённые изменения. Уйти?",
    conflict: "Слот изменил кто-то другой. Обновите страницу.", fallbacks: "Запасные маршруты",
    add_fallback: "Добавить запасной", remove: "Удалить", on_failure: "Если все маршруты не сработали",
    on_failure_error: "Ответить ошибкой", on_failure_original: "Вернуть исходное фото",
    upload_limit: "Лимит загрузки (МБ)", max_in_flight: "Одновременно в обработке", templates: "Шаблоны",
    drop_here: "Перетащите изображения сюда или выберите файлы", role: "Роль", test: "Проверка", test_photo: "Фото для проверки",
    run_test: "Запустить", running: "Обработка… {s} с", original: "Исходное", result: "Результат", duration: "Длительность",
    attempts: "Попытки", recent_results: "Последние результаты", open: "Открыть", download: "Скачать", rerun: "Повторить",
    status: "Статус", source: "Источник", slot: "Слот", any: "Все", received: "Получено", load_more: "Показать ещё",
    details: "Подробнее", client_fields: "Поля от фотобудки", headers: "Заголовки", last_requests: "Последние запросы фотобудки",
    size: "Размер", outcome: "Итог", rotate: "Сменить", rotate_confirm: "Создать новый пароль? Его нужно будет ввести в фотобудке.",
    deadline: "Срок ответа (с)", ttl: "Хранить результаты (ч)", slot_limit: "На слот по умолчанию", provider_limit: "На провайдера",
    concurrency: "Одновременная обработка", provider_keys: "Ключи провайдеров", configured: "задан", not_configured: "не задан",
    new_key: "Новый ключ (пусто — не менять)", cleanup: "Удалить устаревшие файлы", cleanup_report: "Удалено файлов: {files} ({mb} МБ), заданий: {jobs}.",
    window: "Период", total: "Всего", done: "Готово", failed: "Ошибки", timeouts: "Таймауты", success_rate: "Успешность",
    failures: "Причины ошибок", jobs_over_time: "Задания по времени", p95_latency: "p95 задержки (мс)", share_for: "Открыть на (минут)",
    share: "Открыть доступ", stop_sharing: "Закрыть доступ", shared_until: "Открыто, осталось {left}", not_shared: "Доступ закрыт",
    public_link: "Публичная ссылка", guest_gallery: "Фото с мероприятия", gallery_closed: "Галерея сейчас закрыта.",
    your_photo: "Ваше фото", scan: "Отсканируйте, чтобы забрать фото", error: "Ошибка", settings_hint: "Настройки провайдера",
    look: "Цветовой стиль", overlay: "Рамка поверх фото", background: "Заменить фон (люди остаются)", aspect_ratio: "Соотношение сторон",
    image_size: "Размер изображения", quality: "Качество", method: "Метод", strength: "Сила", default: "по умолчанию",
    no_results: "Результатов пока нет", camera: "Сделать фото",
    hidden: "Скрыто от гостей", hide_photo: "Скрыть", show_photo: "Показать", delete_photo: "Удалить",
    confirm_delete_photo: "Удалить файлы этого фото насовсем? Ссылки на него перестанут работать.", photo_hidden: "Скрыто от гостей",
    photo_shown: "Снова видно гостям", photo_deleted: "Фото удалено",
    photo_unavailable: "Это фото недоступно.", photo_expired: "Срок хранения этого фото истёк, оно удалено.",
    routes_failing: "Маршрут провайдера не работает", state_open: "отключён (гости идут в обход)", state_half_open: "идёт проверка",
    route_failed_recent: "За 15 мин не удались {failed} из {total} попыток.", last_failure: "Последняя ошибка", slots: "Слоты",
    slot_degraded: "За 15 мин {route} из {total} фото сделаны запасным маршрутом, {original} — исходное фото.",
    warm_up: "Прогрев", warm_up_hint: "Отправляет одно настоящее фото через все маршруты включённых слотов. Запускайте перед открытием.",
    warming_up: "Отправляем тестовое фото через все маршруты…", route: "Маршрут", fallback: "Запасной", primary: "Основной",
    hedging: "Страховочный запуск", hedging_auto: "Авто (только к бесплатному local)", hedging_on: "Вкл. (возможна оплата двух провайдеров)",
    hedging_off: "Выкл.", hedging_hint: "Если основной маршрут медленнее обычного, запустить следующий параллельно и ответить тем, кто успеет первым.",
    hedge_cost: "За 24 ч: отменено страховочных попыток — {n}, оценка {usd} USD.", hedges: "Страховки",
    people_check: "Проверка людей", people_auto: "Авто (для ИИ-провайдеров, если доступно)", people_on: "Вкл.", people_off: "Выкл.",
    people_hint: "Считает лица в каждом ответе ИИ; если люди пропали, попытка повторяется или отвечает следующий маршрут. Сходство лиц не проверяется.",
    people_unavailable: "Нужно дополнение local-ai на сервере (pip install 'photochanger[local-ai]').",
    people_tolerance: "Допустимая разница в числе лиц", faces: "Лица",
    prompt_fields: "Можно подставлять поля фотобудки: {fields}. Значение по умолчанию: {name|гость}. Из адреса: {query.team}.",
    sample_fields: "Пример полей фотобудки", sample_fields_hint: "По одному в строке, например name=Анна — для подстановок в промпт.",
    alerts: "Оповещения", alert_webhook_url: "Адрес вебхука для оповещений", alert_webhook_hint: "Получает JSON POST, когда маршрут провайдера начинает сбоить и когда восстанавливается.",
  },
};

const KEY = "photochanger.lang";
export let lang = localStorage.getItem(KEY) || (navigator.language || "en").slice(0, 2);
if (!TEXTS[lang]) lang = "en";

export function t(key, values = {}) {
  const text = TEXTS[lang][key] ?? TEXTS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => values[name] ?? "");
}

export function setLang(value) {
  lang = TEXTS[value] ? value : "en";
  localStorage.setItem(KEY, lang);
  document.documentElement.lang = lang;
}

export const LANGUAGES = { en: "English", ru: "Русский" };
document.documentElement.lang = lang;
